"""TFG006: an unreviewed deploy: the code or image a function, task or service runs changes because a
data source read at plan time now returns something else (the newest image in a repository, a tag
in a parameter), not because the code says so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from ..analysis import Analysis
from ..datasources import WHAT_CHANGED
from ..engine import Cause, CauseKind
from ..findings import Finding, Fix, Severity, action_words
from ..fixes import Fixer
from ..model import ResourceChange
from ..plan_index import is_replace
from ..values import PLACEHOLDERS, path_text, top_attr
from .base import Claimed, Rule, group_key

# What a resource runs: the attributes whose change ships other code or another image.
DEPLOY_ATTRS: dict[str, tuple[str, ...]] = {
    "aws_lambda_function": ("image_uri", "s3_bucket", "s3_key", "s3_object_version", "source_code_hash", "filename"),
    "aws_lambda_layer_version": ("s3_bucket", "s3_key", "s3_object_version", "source_code_hash", "filename"),
    "aws_ecs_task_definition": ("container_definitions",),
    "aws_ecs_service": ("task_definition",),
    "aws_batch_job_definition": ("container_properties", "ecs_properties", "eks_properties"),
    "aws_apprunner_service": ("source_configuration",),
    "aws_elastic_beanstalk_environment": ("version_label",),
    "aws_sagemaker_model": ("primary_container", "container"),
    "aws_lightsail_container_service_deployment_version": ("container",),
    "google_cloud_run_service": ("template",),
    "google_cloud_run_v2_service": ("template",),
    "google_cloud_run_v2_job": ("template",),
    "google_cloudfunctions_function": ("source_archive_object", "source_archive_bucket", "source_repository"),
    "google_cloudfunctions2_function": ("build_config",),
    "azurerm_container_app": ("template",),
    "azurerm_container_group": ("container",),
    "kubernetes_deployment": ("spec",),
    "kubernetes_deployment_v1": ("spec",),
    "kubernetes_stateful_set": ("spec",),
    "kubernetes_stateful_set_v1": ("spec",),
    "kubernetes_daemonset": ("spec",),
    "kubernetes_daemon_set_v1": ("spec",),
    "kubernetes_cron_job_v1": ("spec",),
    "helm_release": ("version", "values", "set"),
}
KINDS = frozenset({CauseKind.world_drift, CauseKind.image_drift})


def deploy_attr(rtype: str, path: Sequence[str | int]) -> bool:
    attr = top_attr(tuple(path))
    return attr is not None and attr in DEPLOY_ATTRS.get(rtype, ())


class UnreviewedDeploy(Rule):
    id = "TFG006"
    name = "unreviewed-deploy"
    severity = Severity.error
    summary = ("the code or image of a function, task or service (Lambda `image_uri`, "
               "`s3_object_version`, `source_code_hash`, ECS container images, ...) changes because a data source "
               "read at plan time returns something new (`data.aws_ecr_image` with `most_recent`, an image tag in "
               "SSM), updated in place or replaced")
    why = (
        "A function or a task that takes its image from a lookup (`data \"aws_ecr_image\"` with `most_recent = "
        "true`, a tag kept in an SSM parameter, a package version in another stack's state) ships whatever the "
        "lookup returns at the next plan: the last image anyone pushed, the tag anyone wrote. Nobody reviewed "
        "that release, the code did not change, and the plan shows an ordinary `~ update` (or a new task "
        "definition) that looks like every other run. A broken or unvetted image reaches production through a "
        "routine apply, and rolling back means finding out what was deployed.\n"
        "Reported for the attributes that decide what runs (listed below), when the engine traces the new value "
        "to a data source read at plan time. The same value set through a variable or a literal in a reviewed "
        "change is not reported."
    )
    example = (
        'data "aws_ecr_image" "api" {\n'
        '  repository_name = "api"\n'
        "  most_recent     = true      # whatever was pushed last\n"
        "}\n\n"
        'resource "aws_lambda_function" "api" {\n'
        '  function_name = "api"\n'
        '  package_type  = "Image"\n'
        "  image_uri     = data.aws_ecr_image.api.image_uri   # the next plan deploys it\n"
        "  role          = aws_iam_role.api.arn\n"
        "}"
    )
    fix = (
        "Make a release a change of the code: set the image (by digest) or the package version in a variable or a "
        "literal that a reviewed change sets, or pin what runs now (`replace-guard fix` writes the pin where the "
        "value passes through unchanged). If deploys happen outside Terraform (a pipeline that calls `aws lambda "
        "update-function-code`), let Terraform ignore the attribute: `lifecycle { ignore_changes = [image_uri] }`."
    )
    kinds = KINDS

    def claims(self, an: Analysis, rc: ResourceChange, cause: Cause) -> bool:
        return cause.kind in KINDS and deploy_attr(rc.type, cause.path)

    def updates(self, an: Analysis, rc: ResourceChange) -> Sequence[tuple[str | int, ...]]:
        if rc.type not in DEPLOY_ATTRS:
            return ()
        out = []
        for path in an.engine.changed_attributes(rc):
            if deploy_attr(rc.type, path) and an.engine.explain_path(rc, tuple(path)).kind in KINDS:
                out.append(tuple(path))
        return out

    def advice_table(self) -> str:
        return "\n".join(f"{rtype}: {', '.join(attrs)}" for rtype, attrs in DEPLOY_ATTRS.items())

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        by_change: dict[int, list[tuple[ResourceChange, Cause]]] = {}
        for rc, cause in claimed:
            by_change.setdefault(id(rc), []).append((rc, cause))
        groups: dict[str | None, set[str]] = defaultdict(set)
        firsts = []
        for items in by_change.values():
            rc, cause = items[0]
            key = group_key(self.id, an, cause)
            groups[key].add(rc.full_address)
            firsts.append((rc, cause, key, [c for _, c in items]))
        fixer = Fixer(an)
        for rc, cause, key, causes in firsts:
            yield self._finding(an, fixer, rc, cause, causes, key, groups[key] if key else {rc.full_address})

    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, causes: list[Cause],
                 key: str | None, affected: set[str]) -> Finding:
        root = cause.root
        data_address = (cause.data.address if cause.data is not None
                        else (root.ref if root is not None else "a data source"))
        dtype = data_address.split(".")[1] if data_address.startswith("data.") else ""
        values = []
        hidden = False
        for c in causes:
            before, after = an.shown_pair(rc, c.path, c)
            hidden = hidden or before.startswith("(hidden") or after.startswith("(hidden")
            values.append(self.value_change(c.path, before, after))
        attrs = ", ".join(f"`{path_text(c.path)}`" for c in causes)
        facts: dict[str, str] = {"data_source": data_address}
        read = an.safe_data_values(data_address)
        if read:
            facts["data_source_now"] = "; ".join(f"{k} = {v}" for k, v in read.items())
        if cause.through:
            facts["through"] = an.through_words(cause)
        how = "will be replaced (" + action_words(rc.actions) + ")" if is_replace(rc.actions) else \
            "will be updated in place"
        what = WHAT_CHANGED.get(dtype, "what it looks up changed outside this code")
        via = (f" It reaches {rc.full_address} through {', '.join(cause.through)}, which this plan changes for the "
               "same reason." if cause.through else "")
        verb = "comes" if len(causes) == 1 else "come"
        message = (f"{rc.full_address} {how}, and what it runs changes: {attrs} now {verb} from {data_address}, a "
                   f"data source read again at every plan: {what}.{via} Nobody changed the code: the next apply "
                   "ships a release nobody reviewed.")
        if hidden:
            message += (" The values are not shown: they come from a data source attribute not known to be public, "
                        "or the plan marks them sensitive.")
        shown_after = (values[0].after if values and values[0].after not in PLACEHOLDERS and not hidden
                       else "a new value")
        return self.finding(
            an, rc, title=f"{rc.full_address} deploys what {data_address} returns now, not a reviewed release",
            message=message, chain=an.chain(cause), values=values, paths=[c.path for c in causes], facts=facts,
            fixes=self._fixes(an, fixer, rc, cause, affected), cause=cause, group=key,
            root=f"{data_address} returns {shown_after}")

    def _fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, affected: set[str]) -> list[Fix]:
        fixes: list[Fix] = []
        attr = top_attr(cause.path) or ""
        if cause.through:
            fixes.append(Fix(
                title=f"Stop the change of {cause.through[0]} first",
                detail=f"{rc.full_address} follows {cause.through[0]}, which takes its value from the data source: "
                       "release through that resource's code."))
        else:
            pinned = fixer.pin(rc, cause, what="release", title="Pin the release that runs now", also=affected)
            if pinned.fix is not None and an.data_value_shown(cause):
                fixes.append(pinned.fix)
            else:
                reason = pinned.reason if pinned.fix is None else "the value is not known to be public"
                fixes.append(Fix(
                    title="Pin the release that runs now",
                    detail=f"Write the value {rc.full_address} runs today (`terraform state show "
                           f"'{rc.full_address}'`) in place of the data source reference. (No automatic pin: "
                           f"{reason}.)"))
        fixes.append(Fix(
            title="Release through a reviewed change",
            detail="Pass the image digest (or package version) in a variable set in the code or a .tfvars file, so "
                   "that a new release is a pull request someone approves.",
            snippet='variable "release_image" {\n  description = "the image to run, by digest"\n'
                    '  type        = string\n}'))
        if attr and not cause.through:
            ignored = fixer.ignore(rc, [attr], "then deploys happen outside Terraform (a pipeline), and Terraform "
                                               "keeps what they set.")
            if ignored.fix is not None:
                fixes.append(ignored.fix)
        return fixes
