"""TFG020: a launch template change that reaches only new instances: the template gets a new image,
user data or security setting, an auto scaling group launches from it, and nothing refreshes the
instances that already run."""

from __future__ import annotations

from typing import Any, Iterable

from ..analysis import Analysis
from ..config_graph import module_label
from ..findings import ChainLink, Finding, Fix, Severity, ValueChange
from ..hcl import literal_key, scan_expression
from ..model import ResourceChange
from ..values import get_path, path_text
from .base import Claimed, Rule


def split_ref(ref: str) -> tuple[str, str, str, int | str | None, str | None] | None:
    """`aws_launch_template.x[0].id` -> ("managed", "aws_launch_template", "x", 0, "id")."""
    found = scan_expression(ref).refs
    if not found:
        return None
    r = found[0]
    if r.head == "data" and len(r.steps) >= 3:
        return "data", r.steps[1], r.steps[2], literal_key(r.index_after(3)), (r.steps[3] if len(r.steps) > 3 else None)
    if r.head in ("var", "local", "module", "each", "count", "path", "terraform", "self") or len(r.steps) < 2:
        return None
    return "managed", r.steps[0], r.steps[1], literal_key(r.index_after(2)), (r.steps[2] if len(r.steps) > 2 else None)

# Launch template arguments whose new value only instances launched later get.
TEMPLATE_ATTRS = ("image_id", "user_data", "vpc_security_group_ids", "security_group_names",
                  "iam_instance_profile", "metadata_options", "key_name", "instance_type")
_TEMPLATE_BLOCKS = ("launch_template", "mixed_instances_policy")
_MOVING_VERSIONS = ("$Latest", "$Default")


class LaunchTemplateDrift(Rule):
    id = "TFG020"
    name = "new-instances-only"
    severity = Severity.notice
    summary = ("a change that reaches only new instances: a launch template's image, user data or security "
               "setting changes under an auto scaling group with no instance refresh")
    why = (
        "Updating a launch template only writes a new template version. An auto scaling group launches new "
        "instances from it, but the instances it already runs keep the old image, user data and security groups "
        "until they happen to be replaced (scale-in, health check, manual refresh). The code then says one thing "
        "while the fleet runs another, often for weeks, and the difference surfaces at the worst moment (an old "
        "image with a known hole, a mixed fleet during an incident).\n"
        "An `instance_refresh` block in the group starts a rolling refresh when the group's launch template "
        "setting changes; it does not start when the group uses `version = \"$Latest\"` (the group itself does "
        "not change), so that case is reported too."
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

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        templates = [rc for rc in an.index.managed()
                     if rc.type == "aws_launch_template" and rc.actions == ("update",)]
        if not templates:
            return
        groups = [rc for rc in an.index.managed() if rc.type == "aws_autoscaling_group"
                  and "create" not in rc.actions and "delete" not in rc.actions]
        for lt in templates:
            changed = self._changed(an, lt)
            if not changed:
                continue
            for asg in groups:
                how = self._uses(an, asg, lt)
                if how is None:
                    continue
                refresh = self._refresh(an, asg)
                if refresh == "starts":
                    continue
                yield self._finding(an, lt, asg, changed, how, refresh)

    def _changed(self, an: Analysis, lt: ResourceChange) -> list[list[str | int]]:
        before = an.index.part(lt, "before") or {}
        after = an.index.part(lt, "after") or {}
        unknown = an.index.part(lt, "after_unknown") or {}
        out = []
        for attr in TEMPLATE_ATTRS:
            if not isinstance(before, dict) or not isinstance(after, dict):
                break
            if (isinstance(unknown, dict) and unknown.get(attr)) or before.get(attr) != after.get(attr):
                if before.get(attr) in (None, "", []) and after.get(attr) in (None, "", []):
                    continue
                out.append([attr])
        return out

    def _uses(self, an: Analysis, asg: ResourceChange, lt: ResourceChange) -> tuple[str, str] | None:
        """How the group refers to the template: (expression, evidence) or None."""
        asg_addr, lt_addr = an.address(asg), an.address(lt)
        if asg_addr is None or lt_addr is None:
            return None
        # 1. configuration references in the same module instance
        if asg_addr.module_address == lt_addr.module_address:
            cfg = an.graph.resource(asg_addr.module_names, asg_addr.local)
            exprs = an.graph.exprs(cfg) if cfg is not None else {}
            for block in _TEMPLATE_BLOCKS:
                for path, ref in _refs_with_path(exprs.get(block), [block]):
                    parts = split_ref(ref)
                    if parts and parts[0] == "managed" and parts[1] == lt.type and parts[2] == lt_addr.name \
                            and (parts[3] is None or parts[3] == lt_addr.key or lt_addr.key is None):
                        return f"{path_text(path)} = {ref}", "configuration reference"
        # 2. the template's id or name in the group's values
        lt_before = an.index.part(lt, "before") or {}
        ids = {v for v in (lt_before.get("id"), lt_before.get("name")) if isinstance(v, str) and v} \
            if isinstance(lt_before, dict) else set()
        if ids:
            for part in ("after", "before"):
                values = an.index.part(asg, part)
                for path, value in _strings_with_path(_template_specs(values)):
                    if value in ids:
                        return f"{path_text(path)} = {value}", f"template id in the group's {part} values"
        return None

    def _refresh(self, an: Analysis, asg: ResourceChange) -> str:
        """'none' (no instance_refresh), 'latest' (configured but the group does not change), or 'starts'."""
        after = an.index.part(asg, "after")
        if not isinstance(after, dict):
            after = an.index.part(asg, "before")
        blocks = after.get("instance_refresh") if isinstance(after, dict) else None
        if not blocks:
            addr = an.address(asg)
            cfg = an.graph.resource(addr.module_names, addr.local) if addr else None
            if not (cfg is not None and an.graph.exprs(cfg).get("instance_refresh")):
                return "none"
        if "update" not in asg.actions:
            return "latest"
        before = an.index.part(asg, "before") or {}
        unknown = an.index.part(asg, "after_unknown") or {}
        for key in ("launch_template", "mixed_instances_policy", "launch_configuration"):
            if (isinstance(unknown, dict) and unknown.get(key)) or (
                    isinstance(before, dict) and isinstance(after, dict) and before.get(key) != after.get(key)):
                return "starts"
        return "latest"

    def _finding(self, an: Analysis, lt: ResourceChange, asg: ResourceChange, changed, how: tuple[str, str],
                 refresh: str) -> Finding:
        values = []
        for path in changed:
            before, after = an.value_pair(lt, path)
            if path == ["user_data"]:
                # user data can hold anything: say that it changed, not what it says
                before = _describe(before)
                after = _describe(after)
            values.append(ValueChange(path=path_text(path), before=before, after=after))
        version = _version(an, asg)
        running = _running(an, asg)
        asg_addr, lt_addr = an.address(asg), an.address(lt)
        facts = {"launch_template": lt.full_address, "auto_scaling_group": asg.full_address,
                 "group_uses_template": f"{how[0]} ({how[1]})"}
        if version:
            facts["group_version"] = version
        if running:
            facts["running_instances"] = running
        facts["instance_refresh"] = {"none": "no instance_refresh block",
                                     "latest": "instance_refresh block, but the group itself does not change in "
                                               "this plan, so no refresh starts"}[refresh]
        what = ", ".join(f"`{v.path}`" for v in values)
        count = f"its {running} running instance(s)" if running else "the instances it already runs"
        if refresh == "none":
            why = f"{asg.full_address} launches from it and has no instance_refresh block"
        else:
            why = (f"{asg.full_address} launches from it and has an instance_refresh block, but the group's own "
                   f"settings do not change in this plan"
                   + (f" (version = \"{version}\")" if version in _MOVING_VERSIONS else "")
                   + ", so no refresh starts")
        message = (f"{lt.full_address} changes {what} (a new template version); {why}: {count} keep the old "
                   "settings, and only instances launched from now on get the new ones.")
        chain = [
            ChainLink(ref=f"{lt_addr.local}.{changed[0][0]}" if lt_addr else lt.full_address, kind="attribute",
                      module=module_label(lt_addr.module_names) if lt_addr else "",
                      location=an.attribute_location(lt, changed[0])[0] if lt_addr else None,
                      note="updated in place: a new template version"),
            ChainLink(ref=asg_addr.local if asg_addr else asg.full_address, kind="resource",
                      module=module_label(asg_addr.module_names) if asg_addr else "",
                      expression=how[0], location=an.block_location(asg_addr),
                      note=facts["instance_refresh"]),
        ]
        return Finding(
            rule=self.id,
            severity=self.severity,
            title=f"{lt.full_address} changes, but the running instances of {asg.full_address} keep the old settings",
            address=asg.full_address,
            plan=an.label,
            actions=list(lt.actions),
            action_reason=lt.action_reason,
            replace_paths=[],
            values=values,
            chain=chain,
            facts=facts,
            message=message,
            fixes=self._fixes(an, lt, asg, refresh, version),
            location=chain[1].location or chain[0].location,
        )

    def _fixes(self, an: Analysis, lt, asg, refresh: str, version: str | None) -> list[Fix]:
        lt_addr = an.address(lt)
        asg_addr = an.address(asg)
        res_loc = an.block_location(asg_addr)
        lt_local = lt_addr.local if lt_addr else "aws_launch_template.this"
        fixes = []
        if refresh == "none":
            fixes.append(Fix(
                title="Add an instance_refresh block to the group",
                detail="With the template's latest_version as the group's version, every template change updates "
                       "the group and starts a rolling refresh of the running instances.",
                location=res_loc,
                snippet=(f"launch_template {{\n  id      = {lt_local}.id\n  version = {lt_local}.latest_version\n}}\n"
                         "instance_refresh {\n  strategy = \"Rolling\"\n  preferences {\n"
                         "    min_healthy_percentage = 90\n  }\n}")))
        else:
            fixes.append(Fix(
                title="Use the template's latest_version instead of \"$Latest\"",
                detail="The group then changes with every template version, and its instance_refresh block starts a "
                       "refresh.",
                location=res_loc, snippet=f"version = {lt_local}.latest_version"))
        name = _group_name(an, asg) or "NAME"
        fixes.append(Fix(
            title="Or start an instance refresh after apply",
            detail="Replaces the running instances in rolling batches.",
            snippet=f"aws autoscaling start-instance-refresh --auto-scaling-group-name {name}"))
        return fixes


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


def _template_specs(values: Any) -> dict:
    if not isinstance(values, dict):
        return {}
    return {k: values.get(k) for k in _TEMPLATE_BLOCKS if values.get(k)}


def _strings_with_path(value: Any, path: list | None = None) -> list[tuple[list, str]]:
    path = path or []
    if isinstance(value, str):
        return [(path, value)]
    out: list[tuple[list, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_strings_with_path(v, path + [k]))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_strings_with_path(v, path + [i]))
    return out


def _version(an: Analysis, asg: ResourceChange) -> str | None:
    for part in ("after", "before"):
        values = an.index.part(asg, part)
        for path in (["launch_template", 0, "version"],
                     ["mixed_instances_policy", 0, "launch_template", 0, "launch_template_specification", 0,
                      "version"]):
            v = get_path(values, path)
            if isinstance(v, str) and v:
                return v
    return None


def _running(an: Analysis, asg: ResourceChange) -> str | None:
    before = an.index.part(asg, "before")
    if not isinstance(before, dict):
        return None
    for key in ("desired_capacity", "min_size"):
        if isinstance(before.get(key), int) and before[key] > 0:
            return str(before[key])
    return None


def _group_name(an: Analysis, asg: ResourceChange) -> str | None:
    before = an.index.part(asg, "before")
    name = before.get("name") if isinstance(before, dict) else None
    return name if isinstance(name, str) and name else None


def _describe(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        return text
    import hashlib

    return f"({len(text)} characters, sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]})"
