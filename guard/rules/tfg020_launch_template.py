"""TFG020: a change that reaches only new instances: a launch template gets a new image, user data or
security setting (or a launch configuration is replaced by one that has them), an auto scaling
group launches that new version, and no instance refresh starts: the instances it runs keep the
old settings. Which version a group launches, and whether its refresh starts, is worked out in
`guard/launches.py` (shared with TFG021, which reports the groups whose refresh starts)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from ..analysis import Analysis
from ..engine import Cause
from ..findings import ChainLink, Finding, Fix, Severity, ValueChange
from ..fixes import Fixer
from ..hcl import scan_expression
from ..launches import (
    CONFIGURATION,
    MOVING_VERSIONS,
    TEMPLATE,
    Launch,
    capacity,
    fleet,
    recipe_changes,
)
from ..model import ResourceChange
from ..plan_index import is_replace
from ..values import path_text
from .base import Claimed, Rule, group_key

LAUNCH_TYPES = (TEMPLATE, CONFIGURATION)


def only_new(launch: Launch) -> bool:
    """The group launches what this plan changes, and no refresh replaces what it runs."""
    return launch.new and not launch.group.starts_refresh


class LaunchTemplateDrift(Rule):
    id = "TFG020"
    name = "new-instances-only"
    severity = Severity.notice
    summary = ("a change that reaches only new instances: a launch template's (or a replaced launch "
               "configuration's) image, user data or security setting changes, an auto scaling group launches the "
               "new version, and no instance refresh starts")
    why = (
        "Updating a launch template only writes a new template version; replacing a launch configuration only "
        "writes a new recipe. Nothing that runs is touched: an auto scaling group launches new instances from the "
        "new version, but the instances it already runs keep the old image, user data and security groups until "
        "they happen to be replaced (scale-in, health check, manual refresh). The code then says one thing while "
        "the fleet runs another, often for weeks.\n"
        "The guard works out which version each group launches: `$Latest` (the new one), `$Default` (the new one "
        "only when the template sets `update_default_version` or the plan moves `default_version`), a version "
        "number (an existing version: the change reaches no instance, and nothing is reported), or an expression "
        "that follows the template's `latest_version`, through module variables, locals and conditionals, under "
        "`launch_template` or `mixed_instances_policy`. An `instance_refresh` block starts a refresh only when the "
        "group itself changes (a group on `$Latest` does not): a refresh that starts is TFG021's finding.\n"
        "A launch configuration replaced because `data.aws_ami` picked a newer image is reported here, not by "
        "TFG001: it holds no data, and nothing that runs is destroyed."
    )
    example = (
        'resource "aws_launch_template" "app" {\n'
        "  image_id      = var.app_ami   # new AMI: new template version\n"
        '  instance_type = "t3.micro"\n'
        "}\n\n"
        'resource "aws_autoscaling_group" "app" {\n'
        "  min_size = 2\n  max_size = 4\n"
        "  launch_template {\n"
        "    id      = aws_launch_template.app.id\n"
        '    version = "$Latest"\n'
        "  }\n"
        "  # no instance_refresh block: running instances keep the old AMI\n"
        "}"
    )
    fix = (
        "Add an `instance_refresh` block to the group and point it at the template's `latest_version`, so every "
        "template change rolls through the running instances; or start an instance refresh after apply "
        "(`aws autoscaling start-instance-refresh --auto-scaling-group-name NAME`)."
    )

    def claims(self, an: Analysis, rc: ResourceChange, cause: Cause) -> bool:
        """A replaced launch template or configuration that a group of the plan launches from: it holds
        no data; the group's finding (here or TFG021's) tells what the change does."""
        return rc.type in LAUNCH_TYPES and bool(fleet(an).launches(rc.full_address))

    def updates(self, an: Analysis, rc: ResourceChange) -> Sequence[tuple[str | int, ...]]:
        if rc.type != TEMPLATE or not any(only_new(x) for x in fleet(an).launches(rc.full_address)):
            return ()
        return recipe_changes(an, rc)

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        sources: dict[str, ResourceChange] = {}
        for rc, _ in claimed:
            sources.setdefault(rc.full_address, rc)
        pairs: list[tuple[Launch, list[tuple[str | int, ...]], Cause]] = []
        for address, src in sources.items():
            changed = recipe_changes(an, src)
            if not changed:
                continue
            cause = an.engine.explain_path(src, tuple(changed[0]))
            for launch in fleet(an).launches(address):
                if only_new(launch):
                    pairs.append((launch, changed, cause))
        groups: dict[str | None, set[str]] = defaultdict(set)
        keys = []
        for launch, _, cause in pairs:
            key = group_key(self.id, an, cause)
            groups[key].add(launch.source.full_address)
            keys.append(key)
        fixer = Fixer(an)
        for (launch, changed, cause), key in zip(pairs, keys, strict=True):
            yield self._finding(an, fixer, launch, changed, cause, key, groups[key] if key else
                                {launch.source.full_address})

    def _finding(self, an: Analysis, fixer: Fixer, launch: Launch, changed: list[tuple[str | int, ...]],
                 cause: Cause, key: str | None, affected: set[str]) -> Finding:
        src, group = launch.source, launch.group
        asg = group.rc
        values = []
        for path in changed:
            before, after = an.shown_pair(src, path, cause if tuple(cause.path) == tuple(path) else None)
            if path[0] == "user_data":
                # user data can hold anything: say that it changed, not what it says
                before, after = _describe(before), _describe(after)
            values.append(ValueChange(path=path_text(path), before=before, after=after))
        running = capacity(an, asg)
        refresh = ("no instance_refresh block" if not group.refresh else
                   "instance_refresh block, but the group itself does not change in this plan, so no refresh starts")
        facts: dict[str, str] = {
            "launch_template" if src.type == TEMPLATE else "launch_configuration": src.full_address,
            "group_uses_template": self._uses(an, launch),
            "launches": launch.how,
            "instance_refresh": refresh,
        }
        if launch.version is not None:
            facts["group_version"] = launch.version
        if running is not None:
            facts["running_instances"] = str(running)
        if cause.data is not None:
            facts["data_source"] = cause.data.address
        what = ", ".join(f"`{v.path}`" for v in values)
        if is_replace(src.actions):
            change = (f"{src.full_address} is replaced by a new launch configuration with new {what} (a launch "
                      "configuration only describes instances: nothing that runs is destroyed)")
        else:
            change = f"{src.full_address} changes {what} (a new template version)"
        if cause.drift and cause.data is not None:
            change += f", because {cause.data.address} returns a new value at this plan"
        count = f"its {running} running instance(s)" if running else "the instances it already runs"
        if not group.refresh:
            why = f"{asg.full_address} launches from it ({launch.how}) and has no instance_refresh block"
        else:
            why = (f"{asg.full_address} launches from it ({launch.how}) and has an instance_refresh block, but the "
                   "group's own settings do not change in this plan"
                   + (f" (version = \"{launch.version}\")" if launch.version in MOVING_VERSIONS else "")
                   + ", so no refresh starts")
        message = (f"{change}; {why}: {count} keep the old settings, and only instances launched from now on get "
                   "the new ones.")
        chain = an.chain(cause, {0: "updated in place: a new template version" if not is_replace(src.actions)
                                 else "a new launch configuration replaces the old one"})
        gaddr = an.address(asg)
        chain.append(ChainLink(ref=gaddr.local if gaddr else asg.full_address, kind="resource",
                               module=".".join(f"module.{n}" for n in gaddr.module_names) if gaddr else "",
                               expression=facts["group_uses_template"], location=an.block_location(gaddr),
                               note=refresh))
        return self.finding(
            an, src, title=(f"{src.full_address} changes, but the running instances of {asg.full_address} keep the "
                            "old settings"),
            message=message, values=values, chain=chain, facts=facts,
            fixes=self._fixes(an, fixer, launch, cause, affected), location=chain[-1].location or chain[0].location,
            cause=cause, group=key, root=_root(cause, src), address=asg.full_address)

    @staticmethod
    def _uses(an: Analysis, launch: Launch) -> str:
        """How the group names the template: the reference in its code when there is one, else the value."""
        gaddr, saddr = an.address(launch.group.rc), an.address(launch.source)
        if gaddr is not None and saddr is not None and gaddr.module_address == saddr.module_address:
            cfg = an.graph.resource(gaddr.module_names, gaddr.local)
            exprs = an.graph.exprs(cfg) if cfg is not None else {}
            for block in ("launch_template", "mixed_instances_policy", "launch_configuration"):
                for path, ref in _refs_with_path(exprs.get(block), [block]):
                    found = scan_expression(ref).refs
                    target = found[0].target() if found else None
                    if target is None:
                        continue
                    local, key = target
                    if local == saddr.local and (key is None or saddr.key is None or key == saddr.key):
                        return f"{path_text(path)} = {ref} (configuration reference)"
        return launch.matched_by

    def _fixes(self, an: Analysis, fixer: Fixer, launch: Launch, cause: Cause, affected: set[str]) -> list[Fix]:
        src, group = launch.source, launch.group
        gaddr, saddr = an.address(group.rc), an.address(src)
        res_loc = an.block_location(gaddr)
        local = saddr.local if saddr else "aws_launch_template.this"
        fixes: list[Fix] = []
        if cause.drift and cause.data is not None and not cause.through:
            pinned = fixer.pin(src, cause, what="image", title=f"Pin the image {src.full_address} uses now",
                               also=affected)
            if pinned.fix is not None:
                fixes.append(pinned.fix)
        if src.type == CONFIGURATION:
            fixes.append(Fix(
                title="Add an instance_refresh block to the group",
                detail="A new launch configuration then rolls through the running instances.",
                location=res_loc,
                snippet="instance_refresh {\n  strategy = \"Rolling\"\n  preferences {\n"
                        "    min_healthy_percentage = 90\n  }\n}"))
        elif not group.refresh:
            fixes.append(Fix(
                title="Add an instance_refresh block to the group",
                detail="With the template's latest_version as the group's version, every template change updates "
                       "the group and starts a rolling refresh of the running instances.",
                location=res_loc,
                snippet=(f"launch_template {{\n  id      = {local}.id\n  version = {local}.latest_version\n}}\n"
                         "instance_refresh {\n  strategy = \"Rolling\"\n  preferences {\n"
                         "    min_healthy_percentage = 90\n  }\n}")))
        else:
            fixes.append(Fix(
                title=f"Use the template's latest_version instead of \"{launch.version or '$Latest'}\"",
                detail="The group then changes with every template version, and its instance_refresh block starts a "
                       "refresh.",
                location=res_loc, snippet=f"version = {local}.latest_version"))
        name = _group_name(an, group.rc) or "NAME"
        fixes.append(Fix(
            title="Or start an instance refresh after apply",
            detail="Replaces the running instances in rolling batches.",
            snippet=f"aws autoscaling start-instance-refresh --auto-scaling-group-name {name}"))
        return fixes


def _root(cause: Cause, src: ResourceChange) -> str:
    if cause.data is not None:
        return f"{cause.data.address} returns a new value"
    return f"{src.full_address} changes"


def _refs_with_path(expr: Any, path: list) -> list[tuple[list, str]]:
    """References inside a configuration expression tree, with the attribute path of each."""
    out: list[tuple[list, str]] = []
    if isinstance(expr, dict):
        refs = expr.get("references")
        if isinstance(refs, list):
            out.extend((path, r) for r in refs if isinstance(r, str))
        for key, value in expr.items():
            if key not in ("references", "constant_value"):
                out.extend(_refs_with_path(value, path + [key]))
    elif isinstance(expr, list):
        for i, value in enumerate(expr):
            out.extend(_refs_with_path(value, path + [i]))
    return out


def _group_name(an: Analysis, asg: ResourceChange) -> str | None:
    before = an.index.part(asg, "before")
    name = before.get("name") if isinstance(before, dict) else None
    return name if isinstance(name, str) and name else None


def _describe(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        return text
    return f"({len(text)} characters, sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]})"
