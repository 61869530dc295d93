"""TFG012: a replacement forced by a value that is new on every run (`timestamp()`, `uuid()`,
`bcrypt()`, `plantimestamp()`, a data source that returns a fresh token): the resource is
replaced on every apply."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..analysis import Analysis
from ..engine import Cause, CauseKind
from ..findings import Finding, Fix, Severity, action_words
from ..fixes import Fixer
from ..model import ResourceChange
from ..values import path_text, top_attr
from .base import Claimed, Rule, group_key

# What to use instead of each function, in words and HCL.
_TIME = ("timestamp()", "plantimestamp()")


class PerpetualReplacement(Rule):
    id = "TFG012"
    name = "perpetual-replacement"
    severity = Severity.warning
    summary = ("a replacement forced by a value that is new on every run (`timestamp()`, "
               "`uuid()`, `bcrypt()`, `plantimestamp()`, or a data source that returns a fresh token or password "
               "on every read)")
    why = (
        "Some functions return something new every time Terraform evaluates them: `timestamp()` and "
        "`plantimestamp()` the current time, `uuid()` a random id, `bcrypt()` a hash with a fresh salt. Used in an "
        "attribute that cannot change in place, they make every plan replace the resource, whether or not anything "
        "else changed: an instance with `user_data_replace_on_change` is rebuilt on every apply, a secret gets a "
        "new version on every run. The same holds for data sources that return a new token on every read "
        "(`aws_ecr_authorization_token`, `aws_eks_cluster_auth`, ...).\n"
        "The plan JSON does not show functions: the guard finds them in the `.tf` sources (`-C DIR`). Without "
        "the sources such a replacement is reported by TFG010 as not proven to be asked for."
    )
    example = (
        'resource "aws_instance" "app" {\n'
        "  ami                         = var.ami\n"
        '  instance_type               = "t3.micro"\n'
        '  user_data                   = "echo built at ${timestamp()}"   # new text on every plan\n'
        "  user_data_replace_on_change = true\n"
        "}\n\n"
        'resource "aws_secretsmanager_secret_version" "app" {\n'
        "  secret_id     = aws_secretsmanager_secret.app.id\n"
        "  secret_string = bcrypt(var.password)   # a new salt, a new version, on every run\n"
        "}"
    )
    fix = (
        "Take the value once and keep it: `lifecycle { ignore_changes = [ATTRIBUTE] }` keeps what was set at "
        "creation (`replace-guard fix` writes it); `time_static` (hashicorp/time) holds a time that changes only "
        "when its `triggers` do; a `terraform_data` with `input = timestamp()`, `ignore_changes = [input]` and "
        "`triggers_replace = [...]` does the same without another provider. For `bcrypt()`, store the hash once "
        "(or compare passwords where they are checked) instead of hashing at every plan."
    )
    kinds = frozenset({CauseKind.volatile})

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        groups: dict[str | None, set[str]] = defaultdict(set)
        keys = []
        for rc, cause in claimed:
            key = group_key(self.id, an, cause)
            groups[key].add(rc.full_address)
            keys.append(key)
        fixer = Fixer(an)
        for (rc, cause), key in zip(claimed, keys, strict=True):
            yield self._finding(an, fixer, rc, cause, key)

    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, key: str | None) -> Finding:
        root = cause.root
        path = cause.path
        attr = path_text(path) if path else "(an attribute)"
        source = self._source(cause)
        values = []
        facts: dict[str, str] = {"new_on_every_run": source}
        if path:
            before, after = an.shown_pair(rc, path, cause)
            values.append(self.value_change(path, before, after))
        stateful = an.is_stateful(rc.type)
        message = (f"{rc.full_address} will be replaced ({action_words(rc.actions)}) because `{attr}` is computed "
                   f"from {source}, which is new on every run: every plan shows a new value, so every apply "
                   "destroys and rebuilds it, whether or not anything else changed.")
        if stateful:
            message += " It holds data: whatever lives only in it is lost on every apply."
        if root is not None and root.kind == "function" and root.names:
            facts["module"] = ".".join(f"module.{n}" for n in root.names)
        return self.finding(
            an, rc, title=f"{rc.full_address} will be replaced on every apply: `{attr}` uses {source}",
            message=message, chain=an.chain(cause), values=values, paths=[path] if path else [], facts=facts,
            fixes=self._fixes(an, fixer, rc, cause, source), cause=cause, group=key,
            root=f"{source} is new on every run")

    @staticmethod
    def _source(cause: Cause) -> str:
        root = cause.root
        if root is None:
            return "a value that changes on every run"
        if root.kind == "function":
            return root.ref
        if cause.data is not None:
            attr = path_text(root.attr) if root.attr else ""
            return f"{cause.data.address}{'.' + attr if attr else ''}"
        return root.ref

    def _fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, source: str) -> list[Fix]:
        fixes: list[Fix] = []
        attr = top_attr(cause.path)
        if attr:
            ignored = fixer.ignore(rc, [attr], "the value set at creation stays; change it on purpose by replacing "
                                              "the resource (`terraform apply -replace=ADDRESS`).")
            if ignored.fix is not None:
                fixes.append(ignored.fix)
            else:
                fixes.append(Fix(title=f"Keep the value set at creation (`ignore_changes = [{attr}]`)",
                                 detail=ignored.reason + "."))
        addr = an.address(rc)
        name = (addr.name if addr is not None else "stamp").replace("-", "_")
        if source in _TIME:
            fixes.append(Fix(
                title="Use a time that changes only when you say so (time_static)",
                detail=f"time_static (provider hashicorp/time) records the time once and keeps it until its "
                       f"triggers change; put time_static.{name}.rfc3339 in place of {source}.",
                snippet=(f'resource "time_static" "{name}" {{\n'
                         "  triggers = {\n    release = var.release   # a new time only with a new release\n"
                         "  }\n}")))
        if cause.root is not None and cause.root.kind == "function":
            fixes.append(Fix(
                title="Or hold the value in a terraform_data with explicit triggers",
                detail=f"The value is taken once and kept until one of triggers_replace changes; put "
                       f"terraform_data.{name}.output in place of {source}.",
                snippet=(f'resource "terraform_data" "{name}" {{\n'
                         f"  input            = {source if source != 'bcrypt()' else 'bcrypt(var.password)'}\n"
                         "  triggers_replace = [var.release]\n\n"
                         "  lifecycle {\n    ignore_changes = [input]\n  }\n}")))
        if source == "bcrypt()":
            fixes.append(Fix(
                title="Hash the password once",
                detail="bcrypt() draws a new salt on every call, so its result never repeats. Store the hash where "
                       "it is made (or let the service that checks the password hash it), not in every plan."))
        return fixes
