"""TFG010: replacement of a stateful resource for a visible reason (a code change, taint, `-replace`,
`replace_triggered_by`, or the replacement of a resource it depends on), with that reason spelled out."""

from __future__ import annotations

from collections.abc import Iterable

from ..advice import advice_for, advice_table
from ..analysis import Analysis
from ..engine import Cause, CauseKind
from ..findings import Finding, Fix, Severity, ValueChange, action_words
from ..fixes import Fixer
from ..model import ResourceChange
from ..values import path_text, top_attr
from .base import Claimed, Rule

MAX_PATHS = 8


class StatefulReplacement(Rule):
    id = "TFG010"
    name = "stateful-replacement"
    severity = Severity.warning
    severity_text = "warning/error"
    summary = ("replacement of a stateful resource (instance, volume, database, bucket, ...) for a visible reason: "
               "a code change (which attribute, old -> new), taint, `-replace`, `replace_triggered_by`, or the "
               "replacement of a resource it depends on; an error when the cause is not proven to be asked for")
    why = (
        "Replacing a resource that holds data destroys the data with it: an instance's disks, a database, a "
        "bucket's objects, a queue's messages. The cause here is visible in the plan and usually intended, but "
        "the destruction often is not: an attribute that looks harmless (`security_groups`, `user_data` with "
        "`user_data_replace_on_change`, `availability_zone`) cannot be changed in place. The finding names the "
        "cause and, for common attributes, how to get the change without a rebuild (see the table below).\n"
        "Severity warning: it does not fail CI under the default `--fail-on error`; use `--fail-on warning` to "
        "make intended replacements of stateful resources fail too.\n"
        "Fail safe: a replacement counts as asked for only with evidence in the plan or the code (a literal or a "
        "variable value that differs from the old one, a taint, `-replace`, a trigger or an upstream replacement "
        "whose own change has such evidence). When the chain cannot be followed to such evidence (a local without "
        "the sources, an expression the plan does not show, a trigger the code does not name), the finding is an "
        "error whose cause reads \"not proven to be asked for\"."
    )
    example = (
        'resource "aws_instance" "app" {\n'
        '  ami             = "ami-0123456789abcdef0"\n'
        '  instance_type   = "t3.micro"\n'
        '  security_groups = ["app", "ssh"]   # added "ssh": forces a new instance\n'
        "}\n\n"
        "$ terraform plan -replace=aws_instance.db     # replace_by_request\n"
        "$ terraform taint aws_instance.cache          # replace_because_tainted"
    )
    fix = (
        "If the rebuild is intended: back up what the resource holds, then allow the finding (config `allow` entry "
        "with a reason). If not: use the attribute that updates in place (advice table below), keep the object "
        "with `lifecycle { ignore_changes = [...] }`, `terraform untaint` a healthy tainted object, drop a "
        "`-replace` you did not mean, or narrow `replace_triggered_by`. `lifecycle { prevent_destroy = true }` "
        "makes Terraform refuse any plan that destroys a resource that must never go."
    )

    kinds = frozenset({CauseKind.code_change, CauseKind.variable_change, CauseKind.trigger, CauseKind.taint,
                       CauseKind.requested, CauseKind.not_proven})

    def claims(self, an: Analysis, rc: ResourceChange, cause: Cause) -> bool:
        return cause.kind in self.kinds and an.is_stateful(rc.type)

    def advice_table(self) -> str:
        return advice_table()

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        fixer = Fixer(an)
        for rc, cause in claimed:
            yield self._finding(an, fixer, rc, cause)

    # -- the finding ------------------------------------------------------------------------
    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause) -> Finding:
        address = rc.full_address
        paths = list(cause.paths) or ([cause.path] if cause.path else [])
        values: list[ValueChange] = []
        per_path: list[tuple[tuple, Cause]] = []
        for path in paths[:MAX_PATHS]:
            sub = an.engine.explain_path(rc, tuple(path))
            before, after = an.shown_pair(rc, path, sub)
            values.append(ValueChange(path=path_text(path), before=before, after=after))
            per_path.append((tuple(path), sub))
        facts: dict[str, str] = {"stateful_type": rc.type}
        fixes: list[Fix] = []
        severity = None
        group = root_text = None
        head = f"{address} ({rc.type}, which holds data) will be replaced ({action_words(rc.actions)})"
        kind = cause.kind
        if kind is CauseKind.taint:
            facts["cause"] = "tainted"
            title = f"{address} will be replaced because it is tainted"
            message = (f"{head} because it is tainted: `terraform taint` marked it, or an earlier apply failed while "
                       "creating it or running a provisioner. Terraform replaces tainted objects.")
            fixes.append(Fix(title="If the object is healthy, untaint it",
                             detail="Removing the mark keeps the object; plan again afterwards.",
                             snippet=f"terraform untaint '{address}'"))
        elif kind is CauseKind.requested:
            facts["cause"] = "-replace"
            title = f"{address} will be replaced because -replace asked for it"
            message = (f"{head} because the plan was made with `-replace={address}`. Nothing in the code forces "
                       "it.")
            fixes.append(Fix(title="If you did not mean it, plan again without -replace",
                             detail="Check the CI job's plan command and variables for a -replace option."))
        elif kind is CauseKind.trigger:
            trigger = cause.chain[0] if cause.chain else None
            facts["cause"] = "replace_triggered_by"
            if trigger is not None:
                facts["triggered_by"] = f"{trigger.ref} ({trigger.note})" if trigger.note else trigger.ref
            title = f"{address} will be replaced by its replace_triggered_by"
            message = (f"{head} because a reference in its `lifecycle {{ replace_triggered_by = [...] }}` changes in "
                       f"this plan: {cause.evidence}.")
            fixes.append(Fix(title="Narrow or remove the trigger",
                             detail="Point replace_triggered_by at an attribute that changes only when a rebuild is "
                                    "really needed (e.g. `terraform_data.x.output` fed by a version string) instead "
                                    "of a whole resource, or remove it."))
        elif kind is CauseKind.not_proven:
            severity = Severity.error
            facts["cause"] = "not proven to be asked for"
            title = f"{address} will be replaced, and the plan does not prove anyone asked for it"
            parts = [f"`{v.path}` changes from {v.before} to {v.after}: {sub.evidence}"
                     for (_, sub), v in zip(per_path, values, strict=True)]
            why = "; ".join(parts) if parts else cause.evidence
            message = (f"{head}. Not proven to be asked for: {why}. A replacement counts as asked for only with "
                       "evidence (a changed literal or variable, a taint, -replace, a trigger with such evidence); "
                       "check the chain before applying.")
            if not an.graph.sources.available:
                fixes.append(Fix(title="Run with the sources",
                                 detail="`-C DIR` (the root module's folder) lets the guard follow locals, "
                                        "replace_triggered_by and functions, which the plan JSON does not contain."))
        else:
            through = sorted({a for _, sub in per_path for a in sub.through})
            parts = [f"`{v.path}` changes from {v.before} to {v.after} ({self._origin(an, rc, sub)})"
                     for (_, sub), v in zip(per_path, values, strict=True)]
            if through:
                facts["cause"] = "replacement of " + ", ".join(through)
                title = f"{address} will be replaced because {through[0]} is replaced"
                group = f"{self.id}|through|{through[-1]}"
                root_text = f"{through[-1]} is replaced"
            elif kind is CauseKind.variable_change:
                roots = sorted({sub.root.ref for _, sub in per_path if sub.root is not None
                                and sub.root.kind == "variable" and not sub.root.names})
                facts["cause"] = f"input variable change ({', '.join(roots)}): " + ", ".join(v.path for v in values)
                title = f"{address} will be replaced because `{values[0].path}` changes" if values else \
                    f"{address} will be replaced"
            else:
                facts["cause"] = "code change: " + ", ".join(v.path for v in values) if values else "code change"
                title = f"{address} will be replaced because `{values[0].path}` changes" if values else \
                    f"{address} will be replaced: {cause.evidence}"
            if parts:
                message = f"{head} because " + "; ".join(parts) + ", and that cannot be changed in place."
                if len(paths) > MAX_PATHS:
                    message += f" ({len(paths) - MAX_PATHS} more forcing attributes not shown.)"
            else:
                message = f"{head}: {cause.evidence}."
            if through:
                message += (f" {', '.join(through)} {'is' if len(through) == 1 else 'are'} replaced by this plan: a "
                            "replaced resource's attributes are known only after apply, so everything that uses them "
                            "and cannot update in place is replaced too.")
                fixes.append(Fix(title=f"Look at why {through[-1]} is replaced",
                                 detail=f"{address} follows it; stop that replacement and this one goes away "
                                        f"(`replace-guard explain PLAN '{through[-1]}'`)."))
            for path, sub in per_path:
                fixes.extend(self._path_fixes(an, fixer, rc, path, sub))
        fixes.append(Fix(
            title="If the rebuild is intended, save the data first",
            detail="Take a snapshot or backup of what the resource holds, apply, then allow this finding with a "
                   "reason in .replace-guard.toml."))
        res_loc = an.block_location(rc)
        fixes.append(Fix(
            title="Protect it from accidental destruction",
            detail="Terraform then refuses every plan that destroys it, until the line is removed on purpose.",
            location=res_loc, snippet="lifecycle {\n  prevent_destroy = true\n}"))
        shown = per_path[0][1] if per_path and kind not in (CauseKind.trigger,) else cause
        chain = an.chain(shown)
        location = chain[0].location if chain and chain[0].location else res_loc
        return self.finding(an, rc, title=title, message=message, chain=chain, values=values, paths=paths,
                            facts=facts, fixes=_dedupe(fixes), location=location, severity=severity, cause=cause,
                            group=group, root=root_text)

    @staticmethod
    def _origin(an: Analysis, rc: ResourceChange, cause: Cause) -> str:
        """Where the new value comes from, in words."""
        if cause.through:
            return f"{cause.through[0]} is replaced"
        root = cause.root
        first = cause.chain[0] if cause.chain else None
        loc = an.graph.loc(first.where, first.line) if first is not None else None
        where = f" at {loc.file}:{loc.line}" if loc else ""
        written = f": `{first.expression}`" if first is not None and first.expression and loc else ""
        if root is None:
            return cause.evidence
        if root.kind == "variable" and not root.names:
            shown = ""
            if root.has_value and not root.sensitive:
                import json

                shown = " = " + json.dumps(root.value, sort_keys=True, ensure_ascii=False)
            if root.note and "default" in root.note and "its value is the default" in root.note:
                vloc = an.graph.loc(root.where, root.line)
                return (f"from {root.ref}{shown}, whose default in the code changed"
                        + (f" ({vloc.file}:{vloc.line})" if vloc else ""))
            return (f"from the root variable {root.ref}{shown} "
                    f"(set by -var, a .tfvars file, TF_VAR_{root.ref[4:]} or its default)")
        pure = next((h for h in cause.chain if h.kind == "data_source" and h.pure), None)
        if pure is not None:
            return f"computed by {pure.ref} from its arguments in the code{where}"
        if root.kind == "literal" and len(cause.chain) <= 2 and root.has_value:
            return f"a code change; the new value is a constant in the code{where}"
        if cause.kind is CauseKind.code_change and "no longer set" in cause.evidence:
            return "a code change: the attribute is no longer set in the code"
        if root.kind == "literal" and root.names and "default" in (root.note or ""):
            return (f"from {root.ref} ({'.'.join('module.' + n for n in root.names)}), "
                    "which its module call does not set (its default)")
        return f"a code change{where}{written}"

    def _path_fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, path: tuple, cause: Cause) -> list[Fix]:
        fixes = []
        advice = advice_for(rc.type, list(path))
        if advice is not None:
            loc = an.graph.loc(cause.chain[0].where, cause.chain[0].line) if cause.chain else None
            addr = an.address(rc)
            owned = addr is not None and an.graph.owned(addr.module_names)
            fixes.append(Fix(title=f"About `{rc.type}.{advice.attr}`",
                             detail=f"{advice.why} {advice.fix}", snippet=advice.snippet if owned else None,
                             location=loc if owned else None))
        else:
            top = top_attr(path)
            if top:
                ignored = fixer.ignore(rc, [top], "the code and the object then disagree until the object is "
                                                  "rebuilt on purpose.")
                if ignored.fix is not None:
                    ignored.fix.title = f"To keep the object, ignore changes to `{top}`"
                    ignored.fix.strategy = None  # a code change: `fix` leaves it to a person
                    ignored.fix.edits = []
                    fixes.append(ignored.fix)
        return fixes


def _dedupe(fixes: list[Fix]) -> list[Fix]:
    seen, out = set(), []
    for fix in fixes:
        if fix.title in seen:
            continue
        seen.add(fix.title)
        out.append(fix)
    return out
