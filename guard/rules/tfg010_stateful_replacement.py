"""TFG010: replacement of a stateful resource for a visible reason (a code change, taint, `-replace`,
`replace_triggered_by`, or the replacement of a resource it depends on), with that reason spelled out."""

from __future__ import annotations

from typing import Iterable

from ..advice import advice_for, advice_table, ignore_changes_snippet
from ..context import CONFIG_ONLY_DATA_TYPES, Cause, Context, is_replace, path_text, resource_address, split_ref
from ..findings import Finding, Fix, Severity, ValueChange, action_words
from ..graph import expression_at
from ..model import ResourceChange
from .base import Rule

MAX_PATHS = 8


class StatefulReplacement(Rule):
    id = "TFG010"
    name = "stateful-replacement"
    severity = Severity.warning
    summary = ("replacement of a stateful resource (instance, volume, database, bucket, ...) for a visible reason: "
               "a code change (which attribute, old -> new), taint, `-replace`, `replace_triggered_by`, or the "
               "replacement of a resource it depends on")
    why = (
        "Replacing a resource that holds data destroys the data with it: an instance's disks, a database, a "
        "bucket's objects, a queue's messages. The cause here is visible in the plan and usually intended, but "
        "the destruction often is not: an attribute that looks harmless (`security_groups`, `user_data` with "
        "`user_data_replace_on_change`, `availability_zone`) cannot be changed in place. The finding names the "
        "cause and, for common attributes, how to get the change without a rebuild (see the table below).\n"
        "Severity warning: it does not fail CI under the default `--fail-on error`; use `--fail-on warning` to "
        "make intended replacements of stateful resources fail too."
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

    def advice_table(self) -> str:
        return advice_table()

    def check(self, ctx: Context) -> Iterable[Finding]:
        for rc in ctx.replacements():
            address = rc.full_address
            if address in ctx.claimed or not ctx.is_stateful(rc.type) or resource_address(rc) is None:
                continue
            finding = self._finding(ctx, rc)
            if finding is not None:
                yield finding
                ctx.claim(address)

    # -- the finding ------------------------------------------------------------------------
    def _finding(self, ctx: Context, rc: ResourceChange) -> Finding | None:
        reason = rc.action_reason
        actions = list(rc.actions)
        address = rc.full_address
        paths = ctx.replace_paths(rc)
        visible = reason in ("replace_because_tainted", "replace_by_request", "replace_by_triggers")
        if not visible and paths:
            # Paths fed by a data source that reads the world (not the code) are drift: TFG001-TFG003
            # report those; this rule keeps the causes visible in the code.
            paths = [p for p in paths if not self._drift(ctx, rc, p)]
            if not paths:
                return None
        values: list[ValueChange] = []
        causes: list[tuple[list, Cause | None, str]] = []
        for path in paths[:MAX_PATHS]:
            cause = next(iter(ctx.cause_chains(rc, path)), None)
            before, after = ctx.shown_pair(rc, path)
            values.append(ValueChange(path=path_text(path), before=before, after=after))
            causes.append((path, cause, self._origin(ctx, rc, path, cause)))
        facts: dict[str, str] = {"stateful_type": rc.type}
        fixes: list[Fix] = []
        head = f"{address} ({rc.type}, which holds data) will be replaced ({action_words(actions)})"
        if reason == "replace_because_tainted":
            facts["cause"] = "tainted"
            title = f"{address} will be replaced because it is tainted"
            message = (f"{head} because it is tainted: `terraform taint` marked it, or an earlier apply failed while "
                       "creating it or running a provisioner. Terraform replaces tainted objects.")
            fixes.append(Fix(title="If the object is healthy, untaint it",
                             detail="Removing the mark keeps the object; plan again afterwards.",
                             snippet=f"terraform untaint '{address}'"))
        elif reason == "replace_by_request":
            facts["cause"] = "-replace"
            title = f"{address} will be replaced because -replace asked for it"
            message = (f"{head} because the plan was made with `-replace={address}`. Nothing in the code forces "
                       "it.")
            fixes.append(Fix(title="If you did not mean it, plan again without -replace",
                             detail="Check the CI job's plan command and variables for a -replace option."))
        elif reason == "replace_by_triggers":
            triggers = self._triggers(ctx, rc)
            facts["cause"] = "replace_triggered_by"
            if triggers:
                facts["triggered_by"] = "; ".join(triggers)
            title = f"{address} will be replaced by its replace_triggered_by"
            named = (": " + "; ".join(triggers)) if triggers else " (run with -C DIR to see which reference)"
            message = (f"{head} because a reference in its `lifecycle {{ replace_triggered_by = [...] }}` changes in "
                       f"this plan{named}.")
            fixes.append(Fix(title="Narrow or remove the trigger",
                             detail="Point replace_triggered_by at an attribute that changes only when a rebuild is "
                                    "really needed (e.g. `terraform_data.x.output` fed by a version string) instead "
                                    "of a whole resource, or remove it."))
        else:
            parts = [f"`{value.path}` changes from {value.before} to {value.after} ({origin})"
                     for (_, _, origin), value in zip(causes, values, strict=True)]
            through = sorted({a for _, c, _ in causes if c is not None for a in c.through})
            if through:
                facts["cause"] = "replacement of " + ", ".join(through)
                title = f"{address} will be replaced because {through[0]} is replaced"
            elif causes:
                roots = {c.root.ref for _, c, _ in causes if c is not None and c.root.kind == "variable"
                         and not c.root.module}
                kind = f"input variable change ({', '.join(sorted(roots))})" if roots else "code change"
                facts["cause"] = f"{kind}: " + ", ".join(v.path for v in values)
                title = f"{address} will be replaced because `{values[0].path}` changes"
            else:
                facts["cause"] = "not given by the plan"
                title = f"{address} will be replaced"
            if parts:
                message = f"{head} because " + "; ".join(parts) + ", and that cannot be changed in place."
                if len(paths) > MAX_PATHS:
                    message += f" ({len(paths) - MAX_PATHS} more forcing attributes not shown.)"
            else:
                message = (f"{head}; the plan does not say which attribute forces it "
                           f"(action_reason: {reason or 'none'}).")
                changed = _changed_keys(ctx, rc)
                if changed:
                    message += f" Attributes that change: {', '.join(changed)}."
            if through:
                message += (f" {', '.join(through)} {'is' if len(through) == 1 else 'are'} replaced by this plan: a "
                            "replaced resource's attributes are known only after apply, so everything that uses them "
                            "and cannot update in place is replaced too.")
                fixes.append(Fix(title=f"Look at why {through[-1]} is replaced",
                                 detail=f"{address} follows it; stop that replacement and this one goes away "
                                        f"(`replace-guard explain PLAN '{through[-1]}'`)."))
            for path, cause, _ in causes:
                fixes.extend(self._path_fixes(ctx, rc, path, cause))
        fixes.append(Fix(
            title="If the rebuild is intended, save the data first",
            detail="Take a snapshot or backup of what the resource holds, apply, then allow this finding with a "
                   "reason in .replace-guard.toml."))
        addr = resource_address(rc)
        res_loc = ctx.graph.block_location(addr)
        fixes.append(Fix(
            title="Protect it from accidental destruction",
            detail="Terraform then refuses every plan that destroys it, until the line is removed on purpose.",
            location=res_loc, snippet="lifecycle {\n  prevent_destroy = true\n}"))
        chain = causes[0][1].chain if causes and causes[0][1] is not None else []
        location = chain[0].location if chain and chain[0].location else res_loc
        return self.finding(ctx, rc, title=title, message=message, chain=chain, values=values, paths=paths,
                            facts=facts, fixes=_dedupe(fixes), location=location)

    @staticmethod
    def _drift(ctx: Context, rc, path) -> bool:
        for cause in ctx.cause_chains(rc, path):
            parts = split_ref(cause.root.ref) if cause.root.kind == "data_source" else None
            if parts is not None and parts[1] not in CONFIG_ONLY_DATA_TYPES:
                return True
        return False

    def _origin(self, ctx: Context, rc, path, cause: Cause | None) -> str:
        """Where the new value comes from, in words."""
        if cause is None:
            return "the configuration could not be followed"
        if cause.through:
            return f"{cause.through[0]} is replaced"
        first = cause.chain[0]
        where = f" at {first.location.file}:{first.location.line}" if first.location else ""
        written = f": `{first.expression}`" if first.expression and first.location else ""
        root = cause.root
        addr = resource_address(rc)
        if len(cause.chain) == 1:
            cfg = ctx.graph.config_resource(addr.module_names, addr.local) if addr else None
            expr = expression_at(cfg.exprs, path) if cfg is not None else None
            if isinstance(expr, dict) and "constant_value" in expr:
                return f"a code change; the new value is a constant in the code{where}"
            if expr is None and cfg is not None:
                return "a code change: the attribute is no longer set in the code, or the provider computes it"
            return f"a code change{where}{written}"
        if root.kind == "variable" and not root.module:
            shown = f" = {root.expression}" if root.expression else ""
            return (f"from the root variable {root.ref}{shown} (set by -var, a .tfvars file, TF_VAR_{root.ref[4:]} "
                    "or its default)")
        if root.kind == "variable":
            return f"from {root.label()}, which its module call does not set (its default)"
        if root.kind == "local":
            return f"from {root.label()}" + (f" = {root.expression}" if root.expression else "")
        if root.kind == "data_source":
            return f"computed by {root.label()} from its arguments in the code"
        # resources (and meta references): does this plan change any of them?
        for other in ctx.cause_chains(rc, path):
            parts = split_ref(other.root.ref) if other.root.kind == "resource" else None
            if not parts or addr is None:
                continue
            changes = ctx.instance_changes(addr, other.root.module, parts[1], parts[2], parts[3])
            acts = sorted({", ".join(c.actions) for c in changes if c.actions and c.actions != ("no-op",)})
            if acts:
                return f"from {other.root.label()}, which this plan changes ({'; '.join(acts)})"
        return f"a code change{where}{written}"

    def _path_fixes(self, ctx: Context, rc, path, cause: Cause | None) -> list[Fix]:
        fixes = []
        advice = advice_for(rc.type, path)
        if advice is not None:
            fixes.append(Fix(title=f"About `{rc.type}.{advice.attr}`",
                             detail=f"{advice.why} {advice.fix}", snippet=advice.snippet,
                             location=cause.chain[0].location if cause is not None else None))
        else:
            top = next((p for p in path if isinstance(p, str)), None)
            if top:
                addr = resource_address(rc)
                res_loc = ctx.graph.block_location(addr)
                fixes.append(Fix(
                    title=f"To keep the object, ignore changes to `{top}`",
                    detail="The code and the object then disagree until the object is rebuilt on purpose.",
                    location=res_loc, snippet=ignore_changes_snippet([top])))
        return fixes

    def _triggers(self, ctx: Context, rc: ResourceChange) -> list[str]:
        """The replace_triggered_by references (from the .tf sources) and what the plan does to each."""
        addr = resource_address(rc)
        block = ctx.graph.resource_block(addr) if addr is not None else None
        if not isinstance(block, dict):
            return []
        refs: list[str] = []
        for lifecycle in block.get("lifecycle") or []:
            if isinstance(lifecycle, dict):
                for item in lifecycle.get("replace_triggered_by") or []:
                    if isinstance(item, str):
                        refs.append(item[2:-1] if item.startswith("${") and item.endswith("}") else item)
        out = []
        for ref in refs:
            parts = split_ref(ref)
            doing = ""
            if parts and parts[0] == "managed":
                changes = ctx.instance_changes(addr, addr.config_module, parts[1], parts[2], parts[3])
                acts = sorted({action_words(c.actions) if is_replace(c.actions) else ", ".join(c.actions)
                               for c in changes if c.actions != ("no-op",)})
                doing = f" ({'; '.join(acts)} in this plan)" if acts else " (no change in this plan)"
            out.append(f"{ref}{doing}")
        return out


def _changed_keys(ctx: Context, rc: ResourceChange, limit: int = 8) -> list[str]:
    """Top-level attributes whose value changes (or becomes unknown), for plans without replace_paths."""
    before = ctx.change_part(rc, "before")
    after = ctx.change_part(rc, "after")
    unknown = ctx.change_part(rc, "after_unknown")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    keys = sorted(k for k in set(before) | set(after) if k not in ("id", "arn", "tags_all")
                  and before.get(k) is not None
                  and (before.get(k) != after.get(k) or (isinstance(unknown, dict) and unknown.get(k) is True)))
    return keys[:limit] + (["..."] if len(keys) > limit else [])


def _dedupe(fixes: list[Fix]) -> list[Fix]:
    seen, out = set(), []
    for fix in fixes:
        if fix.title in seen:
            continue
        seen.add(fix.title)
        out.append(fix)
    return out
