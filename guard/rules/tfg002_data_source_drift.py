"""TFG002: replacement forced by a value that a data source, read again at plan time, now returns."""

from __future__ import annotations

from collections.abc import Iterable

from ..advice import advice_for
from ..analysis import Analysis
from ..datasources import WHAT_CHANGED, data_attr_is_safe, data_class_reason
from ..engine import Cause, CauseKind
from ..findings import Finding, Fix, Severity, action_words
from ..fixes import Fixer
from ..model import ResourceChange
from ..values import SENSITIVE, get_path, path_text, top_attr
from .base import Claimed, Rule, group_key


class DataSourceDrift(Rule):
    id = "TFG002"
    name = "data-source-drift"
    severity = Severity.error
    summary = ("replacement forced by a value that comes from a data source read again at plan time "
               "(`aws_ssm_parameter`, `aws_availability_zones`, `aws_ami_ids`, `terraform_remote_state`, "
               "`external`, ...) or from who and where the plan runs (`aws_caller_identity`, `aws_region`), other "
               "than TFG001's case")
    why = (
        "Terraform reads every data source again at each plan. When what it looks up changed outside the code "
        "(a new parameter value, a new image, another zone list, another stack's output, a program's output), "
        "the value it feeds changes too, and if that attribute cannot be updated in place the resource is "
        "destroyed and created again. Nobody changed the code and nothing in a code review warns about it. "
        "When the value comes from the credentials or the region (`aws_caller_identity`, `aws_region`), the plan "
        "most likely runs with another account or region than the last apply.\n"
        "Data sources that only compute from the code (`aws_iam_policy_document`, `template_file`, "
        "`archive_file`, ...) are followed into their arguments instead. Values a data source returns are never "
        "printed unless they are known to be public or the code declassified them with `nonsensitive()` (an "
        "`aws_ssm_parameter` value stays hidden even though `insecure_value` holds it unmarked); a "
        "`terraform_remote_state` output is shown unless the plan marks it sensitive."
    )
    example = (
        'data "aws_ssm_parameter" "golden_ami" {\n'
        '  name = "/images/golden/latest"   # a pipeline writes a new AMI id here\n'
        "}\n\n"
        'resource "aws_instance" "app" {\n'
        "  ami           = data.aws_ssm_parameter.golden_ami.value   # new value -> new instance\n"
        '  instance_type = "t3.micro"\n'
        "}\n\n"
        'data "terraform_remote_state" "images" {\n'
        '  backend = "s3"\n'
        '  config  = { bucket = "state", key = "images.tfstate", region = "us-east-1" }\n'
        "}\n\n"
        'resource "aws_instance" "worker" {\n'
        "  ami           = data.terraform_remote_state.images.outputs.ami_id   # the other stack decides\n"
        '  instance_type = "t3.micro"\n'
        "}"
    )
    fix = (
        "Pin the value the resource uses now in the code, or keep the resource when the looked-up value changes "
        "with `lifecycle { ignore_changes = [ATTRIBUTE] }`. Treat changes to what the data source reads (a "
        "parameter, an image, a zone list, another stack's output) as deployments: roll them out on purpose, in "
        "a reviewed change, for example through a variable set in the code review."
    )
    kinds = frozenset({CauseKind.image_drift, CauseKind.world_drift, CauseKind.identity_change})

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        fixer = Fixer(an)
        for rc, cause in claimed:
            key = group_key(self.id, an, cause)
            yield self._finding(an, fixer, rc, cause, key)

    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, key: str | None) -> Finding:
        root = cause.root
        assert root is not None
        dtype = (root.target or root.ref).split(".")[1] if (root.target or root.ref).startswith("data.") else ""
        path = cause.path
        attr = path_text(path) if path else "(trigger)"
        before, after = an.shown_pair(rc, path, cause) if path else ("", "")
        hidden = before.startswith("(hidden") or after.startswith("(hidden")
        data_address = cause.data.address if cause.data is not None else root.ref
        facts: dict[str, str] = {"data_source": data_address}
        read = an.safe_data_values(data_address)
        if read and dtype != "terraform_remote_state":
            facts["data_source_now"] = "; ".join(f"{k} = {v}" for k, v in read.items())
        if dtype == "terraform_remote_state":
            facts.update(self._remote_state(an, cause))
        if cause.through:
            facts["through"] = an.through_words(cause)
        secret = SENSITIVE in (before, after) or bool(cause.data is not None and cause.data.marks is True)
        via = ""
        if cause.through:
            via = (f" It reaches {rc.full_address} through {', '.join(cause.through)}, which this plan changes for the "
                   "same reason.")
        if cause.kind is CauseKind.identity_change:
            what = ("the plan runs with other credentials or in another region than the last apply "
                    f"({data_class_reason(dtype)})")
        else:
            what = WHAT_CHANGED.get(dtype, "what it looks up changed outside this code")
        if cause.matched_by_value:
            what += "; the chain stops before it, and the new value is the one this data source read"
        change_words = f"`{attr}` changes from {before} to {after}" if path else "a trigger fired"
        message = (
            f"{rc.full_address} will be replaced ({action_words(rc.actions)}) because {change_words}. The value "
            f"comes from {data_address}, a data source that Terraform reads again at every plan: {what}. Nobody had "
            f"to change the code for this.{via} Applying destroys the current object."
        )
        if secret or hidden:
            message += (" The value itself is not shown: the plan marks it sensitive, or it comes from a data "
                        "source attribute not known to be public.")
        title = (f"{rc.full_address} will be replaced because the plan runs with another account or region"
                 if cause.kind is CauseKind.identity_change
                 else f"{rc.full_address} will be replaced because {data_address} returns a new value")
        shown_after = "a new value"
        if cause.data is not None and cause.root is not None and cause.root.attr and an.data_value_shown(cause):
            # What the data source returns, when that says no more than the plan shows: an attribute
            # known to hold no secret, or the very value the attribute takes (not a whole parameter
            # the code only picks a field of).
            value = get_path(cause.data.values, cause.root.attr)
            new, known = an.engine.new_value(rc, path) if path else (None, False)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and (
                    data_attr_is_safe(dtype, str(cause.root.attr[0])) or (known and value == new)):
                shown_after = str(value)
        return self.finding(
            an, rc, title=title, message=message, chain=an.chain(cause),
            values=[self.value_change(path, before, after)] if path else [], paths=[path] if path else [],
            facts=facts, fixes=self._fixes(an, fixer, rc, cause, dtype), cause=cause, group=key,
            root=f"{data_address} returns {shown_after}")

    @staticmethod
    def _remote_state(an: Analysis, cause: Cause) -> dict[str, str]:
        root = cause.root
        out: dict[str, str] = {}
        if root is None:
            return out
        cfg = an.graph.resource(root.names, root.target or "")
        exprs = an.graph.exprs(cfg) if cfg is not None else {}
        backend = exprs.get("backend")
        if isinstance(backend, dict) and isinstance(backend.get("constant_value"), str):
            out["other_stack_backend"] = backend["constant_value"]
        config = exprs.get("config")
        if isinstance(config, dict) and "constant_value" in config:
            import json

            out["other_stack"] = json.dumps(config["constant_value"], sort_keys=True, ensure_ascii=False)
        if len(root.attr) >= 2 and root.attr[0] == "outputs":
            out["other_stack_output"] = str(root.attr[1])
        return out

    def _fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, dtype: str) -> list[Fix]:
        fixes: list[Fix] = []
        path = cause.path
        top = top_attr(path) or ""
        if cause.through:
            fixes.append(Fix(
                title=f"Stop the change of {cause.through[0]} first",
                detail=f"{rc.full_address} is replaced only because {cause.through[0]} changes: pin the value that "
                       "reaches it from "
                       f"{cause.data.address if cause.data else cause.root.ref if cause.root else 'the data source'}."))
        else:
            pinned = fixer.pin(rc, cause)
            if pinned.fix is not None and (an.data_value_shown(cause)):
                fixes.append(pinned.fix)
            else:
                reason = pinned.reason if pinned.fix is None else "the value is not known to be public"
                fixes.append(Fix(
                    title="Pin the value the resource uses now",
                    detail=f"Write the value the resource has today (`terraform state show '{rc.full_address}'`) in "
                           f"place of the data source reference; change it later on purpose, in a reviewed change. "
                           f"(No automatic pin: {reason}.)"))
        if dtype == "terraform_remote_state":
            fixes.append(Fix(
                title="Read the other stack's value through a reviewed variable",
                detail="Pass the value as a variable set in this stack's code or tfvars (reviewed with the change "
                       "that rolls it out), instead of reading the other stack's latest output at every plan."))
        if dtype == "aws_availability_zones":
            fixes.append(Fix(
                title="Name zones, don't index a lookup",
                detail="Give the zone by name (`availability_zone = \"us-east-1a\"`), or keep a fixed list in a "
                       "variable: an index into `names` moves whenever the account's zones change."))
        if dtype == "aws_ssm_parameter":
            fixes.append(Fix(
                title="Make a parameter change a deployment",
                detail="Whoever writes the parameter decides when the resource is rebuilt; write it in the same "
                       "reviewed change that expects the rebuild, or pin the value in the code."))
        if cause.kind is CauseKind.identity_change:
            fixes.append(Fix(
                title="Don't apply: check the account and region",
                detail="Compare AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION and the provider's settings with the last "
                       "successful run, then plan again.",
                snippet="env | grep -E '^AWS_(REGION|DEFAULT_REGION|PROFILE)='"))
        if top and not cause.through:
            fixes += fixer.keep(rc, cause, top, "new resources still get the current value.",
                                f"Keep the resource when `{top}` changes")
        advice = advice_for(rc.type, list(path))
        if advice is not None:
            addr = an.address(rc)
            owned = addr is not None and an.graph.owned(addr.module_names)
            shown = {f.snippet for f in fixes}  # the advice's snippet is often the ignore fix above
            fixes.append(Fix(title=f"About `{rc.type}.{advice.attr}`", detail=f"{advice.why} {advice.fix}",
                             snippet=advice.snippet if owned and advice.snippet not in shown else None))
        return fixes
