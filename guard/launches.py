"""Auto scaling groups and what they launch, worked out once per plan for TFG020 and TFG021.

A launch template or launch configuration is a recipe: changing it destroys nothing. What the
change does depends on the groups that launch from it:

- which version a group launches after apply: `$Latest`, `$Default` (which moves only when the
  template sets `update_default_version`, or the plan changes `default_version`), a number (an
  existing version: the new one reaches nobody), or an expression that follows the template's
  `latest_version` (unknown in the plan: it becomes the new version);
- whether an instance refresh starts: the group has an `instance_refresh` block and the group
  itself changes in its launch settings (`launch_template`, `mixed_instances_policy`,
  `launch_configuration`) or in an attribute its `triggers` name. A group on `$Latest` does not
  change when its template does, so no refresh starts.

A `Launch` pairs one changing template or configuration with one group that launches from it.
TFG020 reports the pairs where the group launches the new version and no refresh starts (only
new instances get it); TFG021 reports the groups whose refresh starts (every instance is
replaced). Groups are matched to templates by the template id or name in the group's values,
then by references in the group's configuration (same module instance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config_graph import all_references
from .diff import leaf_changes
from .hcl import scan_expression
from .model import ResourceChange
from .plan_index import is_replace
from .values import get_path

if TYPE_CHECKING:
    from .analysis import Analysis

GROUP = "aws_autoscaling_group"
TEMPLATE = "aws_launch_template"
CONFIGURATION = "aws_launch_configuration"
# What a group launches from: these attributes of the group.
LAUNCH_SETTINGS = ("launch_template", "mixed_instances_policy", "launch_configuration")
# Template and configuration arguments whose new value only instances launched later get.
RECIPE_ATTRS = ("image_id", "user_data", "vpc_security_group_ids", "security_group_names", "security_groups",
                "iam_instance_profile", "metadata_options", "key_name", "instance_type", "block_device_mappings",
                "network_interfaces", "ebs_block_device", "root_block_device")
MOVING_VERSIONS = ("$Latest", "$Default")

Path = tuple[str | int, ...]


def recipe_changes(an: Analysis, rc: ResourceChange) -> list[Path]:
    """The launch arguments a template or configuration changes (top-level attribute paths)."""
    if is_replace(rc.actions) and rc.change.replace_paths:
        return [tuple(p[:1]) for p in rc.change.replace_paths if p and p[0] in RECIPE_ATTRS] or \
            [tuple(p[:1]) for p in rc.change.replace_paths if p]
    before, after = an.index.part(rc, "before"), an.index.part(rc, "after")
    unknown = an.index.part(rc, "after_unknown")
    if not isinstance(before, dict):
        return []
    after = after if isinstance(after, dict) else {}
    marks = unknown if isinstance(unknown, dict) else {}
    return [(attr,) for attr in RECIPE_ATTRS
            if leaf_changes(before.get(attr), after.get(attr), marks.get(attr))]


@dataclass(frozen=True)
class Spec:
    """Where a group names what it launches: a block path in its values, the keys holding the
    template's id and name, and the key holding the version ("" for a launch configuration,
    which the group names by its name alone)."""

    base: Path
    id_keys: tuple[str, ...]
    version_key: str

    @property
    def configuration(self) -> bool:
        return self.base == ("launch_configuration",)

    @property
    def version_path(self) -> Path | None:
        return self.base + (self.version_key,) if self.version_key else None


_MIXED = ("mixed_instances_policy", 0, "launch_template", 0)


def specs(values: Any) -> list[Spec]:
    """The launch specifications a group's values hold."""
    if not isinstance(values, dict):
        return []
    out: list[Spec] = []
    if values.get("launch_template"):
        out.append(Spec(("launch_template", 0), ("id", "name"), "version"))
    if get_path(values, _MIXED + ("launch_template_specification",)):
        out.append(Spec(_MIXED + ("launch_template_specification", 0),
                        ("launch_template_id", "launch_template_name"), "version"))
    overrides = get_path(values, _MIXED + ("override",))
    for i, item in enumerate(overrides if isinstance(overrides, list) else []):
        if isinstance(item, dict) and item.get("launch_template_specification"):
            out.append(Spec(_MIXED + ("override", i, "launch_template_specification", 0),
                            ("launch_template_id", "launch_template_name"), "version"))
    if isinstance(values.get("launch_configuration"), str) and values["launch_configuration"]:
        out.append(Spec(("launch_configuration",), (), ""))
    return out


def spec_names(values: Any, spec: Spec) -> list[str]:
    """The template ids and names (or the configuration's name) a spec holds."""
    if spec.configuration:
        value = get_path(values, spec.base)
        return [value] if isinstance(value, str) and value else []
    block = get_path(values, spec.base)
    if not isinstance(block, dict):
        return []
    return [block[k] for k in spec.id_keys if isinstance(block.get(k), str) and block[k]]


@dataclass
class Group:
    """One auto scaling group of the plan, as far as launches go."""

    rc: ResourceChange
    refresh: bool  # it has an instance_refresh block
    launch_changes: list[Path]  # leaf paths of its launch settings that change in this plan
    trigger_changes: list[Path]  # attributes named in instance_refresh.triggers that change

    @property
    def address(self) -> str:
        return self.rc.full_address

    @property
    def starts_refresh(self) -> bool:
        return self.refresh and "update" in self.rc.actions and bool(self.launch_changes or self.trigger_changes)


@dataclass
class Launch:
    """A changing template or configuration, and one group that launches from it."""

    source: ResourceChange
    group: Group
    spec: Spec
    version: str | None  # the version the group names after apply; None when unknown in the plan
    new: bool  # the group launches what this plan changes
    how: str  # why (or why not), in words
    matched_by: str  # how the group was found to use the source


@dataclass
class Fleet:
    groups: dict[str, Group] = field(default_factory=dict)
    by_source: dict[str, list[Launch]] = field(default_factory=dict)
    by_group: dict[str, list[Launch]] = field(default_factory=dict)
    sources: dict[str, ResourceChange] = field(default_factory=dict)

    def launches(self, source: str) -> list[Launch]:
        return self.by_source.get(source, [])


def fleet(an: Analysis) -> Fleet:
    """The plan's groups and launch sources, built once per analysis."""
    found = an.memo.get("launches.fleet")
    if found is None:
        found = an.memo["launches.fleet"] = _build(an)
    return found


def _changes_of_type(an: Analysis, rtype: str) -> list[ResourceChange]:
    out: list[ResourceChange] = []
    prefix = rtype + "."
    for (_, local), changes in an.index.by_node.items():
        if local.startswith(prefix):
            out.extend(changes)
    return out


def _group(an: Analysis, rc: ResourceChange) -> Group:
    part = an.index.part
    before, after, unknown = part(rc, "before"), part(rc, "after"), part(rc, "after_unknown")
    values = after if isinstance(after, dict) else before
    blocks = values.get("instance_refresh") if isinstance(values, dict) else None
    refresh = bool(blocks)
    if not refresh:
        addr = an.address(rc)
        cfg = an.graph.resource(addr.module_names, addr.local) if addr is not None else None
        refresh = bool(cfg is not None and an.graph.exprs(cfg).get("instance_refresh"))
    launch_changes: list[Path] = []
    trigger_changes: list[Path] = []
    if "update" in rc.actions and isinstance(before, dict):
        after_d = after if isinstance(after, dict) else {}
        marks = unknown if isinstance(unknown, dict) else {}
        for key in LAUNCH_SETTINGS:
            launch_changes += leaf_changes(before.get(key), after_d.get(key), marks.get(key), (key,))
        triggers = get_path(values, ("instance_refresh", 0, "triggers"))
        for name in triggers if isinstance(triggers, list) else []:
            if isinstance(name, str) and name not in LAUNCH_SETTINGS:
                trigger_changes += leaf_changes(before.get(name), after_d.get(name), marks.get(name), (name,))
    return Group(rc=rc, refresh=refresh, launch_changes=launch_changes, trigger_changes=trigger_changes)


def _build(an: Analysis) -> Fleet:
    out = Fleet()
    groups = [rc for rc in _changes_of_type(an, GROUP) if "delete" not in rc.actions and "create" not in rc.actions]
    sources: list[ResourceChange] = []
    for rtype in (TEMPLATE, CONFIGURATION):
        for rc in _changes_of_type(an, rtype):
            if ("update" in rc.actions or is_replace(rc.actions)) and recipe_changes(an, rc):
                sources.append(rc)
    for rc in groups:
        out.groups[rc.full_address] = _group(an, rc)
    if not sources:
        return out
    # who names what: template ids and names, configuration names, in the groups' values
    named: dict[str, list[tuple[Group, Spec, str]]] = {}
    for group in out.groups.values():
        for part in ("before", "after"):
            values = an.index.part(group.rc, part)
            for spec in specs(values):
                for name in spec_names(values, spec):
                    holders = named.setdefault(name, [])
                    if not any(g is group and s == spec for g, s, _ in holders):
                        holders.append((group, spec, f"{name} in the group's {part} values"))
    for src in sources:
        out.sources[src.full_address] = src
        before = an.index.part(src, "before")
        ids = [before[k] for k in ("id", "name") if isinstance(before, dict) and isinstance(before.get(k), str)
               and before[k]]
        seen: set[tuple[str, Path]] = set()
        pairs: list[tuple[Group, Spec, str]] = []
        for name in dict.fromkeys(ids):
            for group, spec, how in named.get(name, []):
                if spec.configuration == (src.type == CONFIGURATION) and (group.address, spec.base) not in seen:
                    seen.add((group.address, spec.base))
                    pairs.append((group, spec, how))
        if not pairs:
            pairs = _by_reference(an, src, out)
        for group, spec, how in pairs:
            launch = _launch(an, src, group, spec, how)
            out.by_source.setdefault(src.full_address, []).append(launch)
            out.by_group.setdefault(group.address, []).append(launch)
    return out


def _by_reference(an: Analysis, src: ResourceChange, out: Fleet) -> list[tuple[Group, Spec, str]]:
    """Groups of the same module instance whose launch settings refer to the source in the code."""
    saddr = an.address(src)
    if saddr is None:
        return []
    found: list[tuple[Group, Spec, str]] = []
    for group in out.groups.values():
        gaddr = an.address(group.rc)
        if gaddr is None or gaddr.module_address != saddr.module_address:
            continue
        cfg = an.graph.resource(gaddr.module_names, gaddr.local)
        exprs = an.graph.exprs(cfg) if cfg is not None else {}
        values = an.index.part(group.rc, "after") or an.index.part(group.rc, "before")
        for key in LAUNCH_SETTINGS:
            for ref in all_references(exprs.get(key)):
                r = scan_expression(ref).refs
                target = r[0].target() if r else None
                if target is None or target[0] != saddr.local:
                    continue
                key_index = target[1]
                if key_index is not None and saddr.key is not None and key_index != saddr.key:
                    continue
                spec = next((s for s in specs(values) if s.base[0] == key), None)
                if spec is None:
                    spec = Spec(("launch_configuration",), (), "") if key == "launch_configuration" else \
                        Spec(("launch_template", 0), ("id", "name"), "version")
                found.append((group, spec, f"{key} refers to {ref}"))
                break
    return found


def _launch(an: Analysis, src: ResourceChange, group: Group, spec: Spec, matched_by: str) -> Launch:
    """Which version the group launches after apply, and whether that is what this plan changes."""
    if spec.configuration:
        return Launch(src, group, spec, None, True, "a launch configuration cannot change: the group launches the "
                                                    "new one that replaces it", matched_by)
    vpath = spec.version_path
    assert vpath is not None
    unknown = an.index.at(group.rc, "after_unknown", vpath) is True
    after = an.index.part(group.rc, "after")
    values = after if isinstance(after, dict) else an.index.part(group.rc, "before")
    version = None if unknown else get_path(values, vpath)
    version = version if isinstance(version, (str, int)) and not isinstance(version, bool) else None
    text = str(version) if version is not None else None
    if unknown:
        return Launch(src, group, spec, None, True, "its version is known only after apply: it follows the "
                                                    "template's new version", matched_by)
    if text == "$Latest":
        return Launch(src, group, spec, text, True, 'it launches "$Latest", the new version', matched_by)
    if text in (None, "", "$Default"):
        moves = _default_moves(an, src)
        shown = '"$Default"' if text else "the default version (no version set)"
        if moves:
            return Launch(src, group, spec, text, True, f"it launches {shown}, and the template makes each new "
                                                        "version its default (update_default_version)", matched_by)
        return Launch(src, group, spec, text, False, f"it launches {shown}, and this plan does not move the "
                                                     "template's default version: new instances still launch the "
                                                     "old one", matched_by)
    return Launch(src, group, spec, text, False, f"it launches version {text}, an existing version: the new one "
                                                 "reaches no instance", matched_by)


def _default_moves(an: Analysis, src: ResourceChange) -> bool:
    if is_replace(src.actions):
        return True
    before, after = an.index.part(src, "before"), an.index.part(src, "after")
    unknown = an.index.part(src, "after_unknown")
    if isinstance(unknown, dict) and unknown.get("default_version") is True:
        return True
    if isinstance(after, dict) and after.get("update_default_version") is True:
        return True
    return isinstance(before, dict) and isinstance(after, dict) and \
        after.get("default_version") not in (None, before.get("default_version"))


def capacity(an: Analysis, rc: ResourceChange) -> int | None:
    """How many instances a group runs now (its desired capacity before apply), when the plan shows it."""
    for part in ("before", "after"):
        values = an.index.part(rc, part)
        if isinstance(values, dict):
            value = values.get("desired_capacity")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None
