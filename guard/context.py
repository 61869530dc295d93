"""What a rule sees of one plan: the plan, its reference graph and value helpers."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from .address import Address, format_key, parse_address
from .findings import ChainLink
from .graph import Graph
from .model import NOOP, Plan, ResourceChange, get_path, is_marked, iter_state_data, raw_value

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
ABSENT = "(none)"
_PLACEHOLDERS = (SENSITIVE, UNKNOWN, ABSENT)


def is_replace(actions: tuple[str, ...]) -> bool:
    return "delete" in actions and "create" in actions


# Data sources whose result is a pure function of their arguments (code, files in the repo):
# a value they feed changes only when the code does, so it is not drift.
CONFIG_ONLY_DATA_TYPES: frozenset[str] = frozenset({
    "aws_iam_policy_document", "template_file", "cloudinit_config", "template_cloudinit_config",
    "archive_file", "local_file", "local_sensitive_file", "null_data_source", "external",
    "google_iam_policy", "azurerm_client_config", "terraform_remote_state",
})

# Data source attributes known to hold no secret, by type. Every other value a data source
# returns stays unprinted: aws_ssm_parameter's `value` is marked sensitive, but its
# `insecure_value` holds the same text unmarked, and other types have no marks at all.
SAFE_DATA_ATTRS: dict[str, frozenset[str]] = {
    t: frozenset(a.split()) for t, a in {
        "aws_ami": "id image_id name creation_date owner_id description architecture arn",
        "aws_ami_ids": "ids",
        "aws_availability_zones": "names zone_ids group_names",
        "aws_availability_zone": "name zone_id region group_name",
        "aws_region": "name id region endpoint description",
        "aws_regions": "names",
        "aws_caller_identity": "account_id arn",
        "aws_partition": "partition dns_suffix",
        "aws_ssm_parameter": "name arn type version data_type",
        "aws_vpc": "id arn cidr_block",
        "aws_vpcs": "ids",
        "aws_subnet": "id arn availability_zone availability_zone_id cidr_block vpc_id",
        "aws_subnets": "ids",
        "aws_subnet_ids": "ids",
        "aws_security_group": "id arn name vpc_id",
        "aws_security_groups": "ids",
        "aws_key_pair": "key_name key_pair_id arn",
        "aws_kms_key": "id arn key_id",
        "aws_kms_alias": "id arn target_key_id target_key_arn",
        "aws_launch_template": "id arn name latest_version default_version image_id",
        "aws_ebs_snapshot": "id snapshot_id arn",
        "aws_ebs_snapshot_ids": "ids",
        "aws_ec2_instance_type": "instance_type",
        "aws_ec2_instance_type_offering": "instance_type",
        "aws_route53_zone": "zone_id name arn",
        "aws_iam_role": "arn name id",
        "aws_eks_cluster": "name arn version",
        "aws_db_snapshot": "id db_snapshot_identifier db_snapshot_arn",
        "aws_s3_bucket": "id arn bucket region",
        "google_compute_image": "name self_link family",
        "google_compute_zones": "names",
        "azurerm_resource_group": "name location id",
    }.items()
}


def data_attr_is_safe(dtype: str, attr: str | None) -> bool:
    """True when `data.<dtype>.*.<attr>` is known to hold no secret."""
    return attr is not None and attr in SAFE_DATA_ATTRS.get(dtype, frozenset())


_REF_HEAD = re.compile(r'^(data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)((?:\[(?:"(?:[^"\\]|\\.)*"|[^\]"]*)\])?)(?:\.([A-Za-z_][\w-]*))?')
_NOT_RESOURCES = {"var", "local", "module", "each", "count", "path", "terraform", "self", "data"}


def split_ref(ref: str) -> tuple[str, str, str, int | str | None, str | None] | None:
    """`data.aws_ami.x[0].id` -> ("data", "aws_ami", "x", 0, "id"); None when it is not a resource reference."""
    m = _REF_HEAD.match(ref or "")
    if m is None or (not m.group(1) and m.group(2) in _NOT_RESOURCES):
        return None
    mode = "data" if m.group(1) else "managed"
    key: int | str | None = None
    if m.group(4):
        parsed = parse_address(f"{m.group(2)}.{m.group(3)}{m.group(4)}")
        key = parsed.key if parsed else None
    return mode, m.group(2), m.group(3), key, m.group(5)


_KEY_RE = r'(?:\[(?:"(?:[^"\\]|\\.)*"|-?\d+)\])?'


def instance_base(resource: Address, link_module: str, local: str) -> tuple[str, re.Pattern | None]:
    """The full address of `local` in module `link_module` (a configuration path such as
    `module.a.module.b`), as seen from `resource`.

    Module steps `resource` shares take their instance keys from its address: the result is the
    exact base address (without the object's own key), and no pattern. When the link is in a
    module `resource` is not in, its keys are unknown: the base then has none, and the pattern
    matches the address under any keys, with or without the object's own key.
    """
    names = [part for i, part in enumerate(link_module.split(".")) if i % 2 == 1] if link_module else []
    shared: list[str] = []
    for i, name in enumerate(names):
        if i < len(resource.modules) and resource.modules[i].name == name:
            m = resource.modules[i]
            shared.append(f"module.{m.name}" + (f"[{format_key(m.key)}]" if m.key is not None else ""))
        else:
            break
    rest = names[len(shared):]
    prefix = ".".join(shared)
    if not rest:
        return (f"{prefix}.{local}" if prefix else local), None
    base = ".".join([*shared, *(f"module.{n}" for n in rest), local])
    regex = re.escape(prefix + "." if prefix else "")
    regex += r"\.".join(rf"module\.{re.escape(n)}{_KEY_RE}" for n in rest)
    regex += r"\." + re.escape(local) + _KEY_RE
    return base, re.compile(regex)


def data_attribute(chain: list[ChainLink]) -> str | None:
    """The attribute of the chain's root data source that the chain uses (`value` in
    `data.aws_ssm_parameter.x.value`), read from the expression of the link that names it."""
    root = chain[-1] if chain else None
    if root is None or root.kind != "data_source":
        return None
    pattern = re.compile(re.escape(root.ref) + r'(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]"]*)\])?\.([A-Za-z_][\w-]*)')
    for link in reversed(chain[:-1]):
        m = pattern.search(link.expression or "")
        if m:
            return m.group(1)
    return None


@dataclass
class Cause:
    """One explanation of a forcing attribute: the chain, and whose attribute its last part starts at.

    `through` lists the resources the plan replaces that the chain passes (a replacement that
    makes another resource's attribute unknown forces that one too).
    """

    chain: list[ChainLink]
    owner: Address
    through: list[str] = field(default_factory=list)

    @property
    def root(self) -> ChainLink:
        return self.chain[-1]


def path_text(path: list[str | int] | tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def show_value(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass
class Context:
    plan: Plan
    plan_label: str
    graph: Graph
    stateful_types: frozenset[str]
    claimed: set[str] = field(default_factory=set)
    _data_index: dict[str, Any] | None = None
    _decoded: dict[int, dict[str, Any]] = field(default_factory=dict)
    _change_index: dict[str, ResourceChange] | None = None
    _read_index: dict[str, ResourceChange] | None = None
    _managed: list[ResourceChange] | None = None
    _replaced: list[ResourceChange] | None = None
    _change_order: list[str] | None = None
    _instance_memo: dict[tuple[str, bool], list[ResourceChange]] = field(default_factory=dict)
    _data_reads: list[str] | None = None
    _active: list[ResourceChange] | None = None
    _active_order: list[tuple[str, int]] | None = None

    # -- resources ------------------------------------------------------------------------
    def managed_changes(self) -> Iterator[ResourceChange]:
        # Listed once per plan, not once per rule: a large plan has 100,000 changes.
        if self._managed is None:
            self._managed = [rc for rc in self.plan.changes if rc.mode == "managed" and rc.deposed in (None, False, "")]
        return iter(self._managed)

    def active_changes(self) -> list[ResourceChange]:
        """Every change that does something (all but no-ops), managed and data, in plan order.

        Listed once per plan: scan this, not plan.changes, when looking for what a plan changes.
        """
        if self._active is None:
            self._active = [rc for rc in self.plan.changes if rc.actions != NOOP]
        return self._active

    def active_with_prefix(self, prefix: str) -> list[ResourceChange]:
        """The active changes whose full address starts with `prefix` (a resource or module
        address), in address order: found by bisection, not by scanning the plan."""
        if self._active_order is None:
            self._active_order = sorted((rc.full_address, i) for i, rc in enumerate(self.active_changes()))
        order, active = self._active_order, self.active_changes()
        out = []
        at = bisect.bisect_left(order, (prefix,))
        while at < len(order) and order[at][0].startswith(prefix):
            out.append(active[order[at][1]])
            at += 1
        return out

    def replacements(self) -> Iterator[ResourceChange]:
        if self._replaced is None:
            self._replaced = [rc for rc in self.managed_changes() if is_replace(rc.actions)]
        return iter(self._replaced)

    def is_stateful(self, rtype: str) -> bool:
        return rtype in self.stateful_types

    def claim(self, address: str) -> None:
        self.claimed.add(address)

    # -- values ---------------------------------------------------------------------------
    def change_part(self, rc: ResourceChange, part: str) -> Any:
        """Decoded `before`, `after`, `after_unknown`, ... of one change (cached)."""
        cache = self._decoded.setdefault(id(rc), {})
        if part not in cache:
            cache[part] = raw_value(getattr(rc.change, part))
        return cache[part]

    def value_pair(self, rc: ResourceChange, path: list[str | int]) -> tuple[str, str]:
        """Old and new value of an attribute, as text, redacted where the plan marks it sensitive."""
        if is_marked(self.change_part(rc, "before_sensitive"), path):
            before = SENSITIVE
        else:
            before = show_value(get_path(self.change_part(rc, "before"), path))
        if is_marked(self.change_part(rc, "after_sensitive"), path):
            after = SENSITIVE
        elif is_marked(self.change_part(rc, "after_unknown"), path):
            after = UNKNOWN
        else:
            after = show_value(get_path(self.change_part(rc, "after"), path))
        return before, after

    def shown_pair(self, rc: ResourceChange, path: list[str | int]) -> tuple[str, str]:
        """value_pair, and also hidden when the value comes straight from a data source attribute
        not known to be public (`aws_ssm_parameter.insecure_value` holds a secret unmarked)."""
        before, after = self.value_pair(rc, path)
        if before in _PLACEHOLDERS and after in _PLACEHOLDERS:
            return before, after
        for cause in self.cause_chains(rc, path):
            root = cause.root
            parts = split_ref(root.ref) if root.kind == "data_source" and not cause.through else None
            attr = data_attribute(cause.chain) if parts else None
            if parts and not data_attr_is_safe(parts[1], attr):
                hidden = f"(hidden: a value of {root.ref}{'.' + attr if attr else ''})"
                return (before if before in _PLACEHOLDERS else hidden), (after if after in _PLACEHOLDERS else hidden)
        return before, after

    def replace_paths(self, rc: ResourceChange, candidates: tuple[str, ...] = ()) -> list[list[str | int]]:
        """The plan's replace_paths; for plans older than 0.15.3, the candidates that changed."""
        if rc.change.replace_paths:
            return [list(p) for p in rc.change.replace_paths if isinstance(p, list)]
        out = []
        for attr in candidates:
            before = get_path(self.change_part(rc, "before"), [attr])
            after = get_path(self.change_part(rc, "after"), [attr])
            unknown = is_marked(self.change_part(rc, "after_unknown"), [attr])
            if before is not None and (unknown or before != after):
                out.append([attr])
        return out

    # -- data sources ---------------------------------------------------------------------
    def data_state(self, address: str) -> tuple[dict[str, Any], Any] | None:
        """Values and sensitive marks that a data source read at plan time, by full address."""
        if self._data_index is None:
            self._data_index = {}
            ps = self.plan.prior_state
            root = ps.values.root_module if ps is not None and ps.values is not None else None
            for res in iter_state_data(root):
                self._data_index[res.address] = res
        res = self._data_index.get(address)
        if res is None:
            return None
        values = raw_value(res.values)
        return (values if isinstance(values, dict) else {}), raw_value(res.sensitive_values)

    def data_read_change(self, address: str) -> ResourceChange | None:
        """The `read` change of a data source deferred to apply time, by full address."""
        if self._read_index is None:
            self._read_index = {}
            for rc in self.plan.changes:
                if rc.mode == "data" and rc.deposed in (None, False, ""):
                    self._read_index.setdefault(rc.full_address, rc)
        return self._read_index.get(address)

    def data_instances(self, resource: Address, link_module: str, local: str) -> list[str]:
        """Full addresses a chain's data source may have, given the resource it feeds.

        Instance keys of the modules the resource and the data source share are taken from
        the resource's address; a data source with count/for_each gives several candidates.
        """
        base, pattern = instance_base(resource, link_module, local)
        self.data_state("")  # builds the index
        index = self._data_index or {}
        if pattern is not None:  # the data source is in a module the resource is not in: any key
            if self._data_reads is None:
                self._data_reads = [rc.address for rc in self.plan.changes if rc.mode == "data"]
            found = sorted(a for a in index if pattern.fullmatch(a))
            return found or sorted(a for a in self._data_reads if pattern.fullmatch(a)) or [base]
        exact = [base] if base in index else []
        keyed = sorted(a for a in index if a.startswith(base + "["))
        if exact or keyed:
            return exact + keyed
        if self._data_reads is None:  # once per plan, not once per chain: a large plan has 100,000 changes
            self._data_reads = [rc.address for rc in self.plan.changes if rc.mode == "data"]
        reads = [a for a in self._data_reads if a == base or a.startswith(base + "[")]
        return reads or [base]


    def safe_data_values(self, address: str, dtype: str) -> dict[str, str]:
        """What a data source read at plan time, limited to attributes known to hold no secret
        and not marked sensitive; lists as comma-separated text."""
        state = self.data_state(address)
        if state is None:
            return {}
        values, marks = state
        out: dict[str, str] = {}
        for key in sorted(SAFE_DATA_ATTRS.get(dtype, ())):
            value = values.get(key)
            if value in (None, "", []) or is_marked(marks, [key]):
                continue
            if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
                shown = ", ".join(str(v) for v in value[:5])
                out[key] = shown + (f", ... ({len(value)} in all)" if len(value) > 5 else "")
            elif isinstance(value, (str, int, float, bool)):
                out[key] = show_value(value)
        return out

    # -- managed resources by address -------------------------------------------------------
    def change(self, address: str) -> ResourceChange | None:
        """The planned change of a managed resource instance (not deposed), by full address."""
        if self._change_index is None:
            self._change_index = {}
            for rc in self.managed_changes():
                self._change_index.setdefault(rc.full_address, rc)
        return self._change_index.get(address)

    def instance_changes(self, resource: Address, link_module: str, rtype: str, name: str,
                         key: int | str | None = None, replaced: bool = False) -> list[ResourceChange]:
        """Changes of the managed resource a chain link names, seen from `resource`.

        Instance keys of the modules both share come from `resource`'s address; without a key
        in the reference every instance of a resource with count/for_each is a candidate.
        With `replaced`, only the instances the plan replaces.
        """
        local = f"{rtype}.{name}"
        base, pattern = instance_base(resource, link_module, local)
        if pattern is not None:
            self.change("")  # builds the index
            wanted = format_key(key) if key is not None else None
            return [c for a, c in sorted((self._change_index or {}).items()) if pattern.fullmatch(a)
                    and (wanted is None or a.endswith(f"[{wanted}]")) and (not replaced or is_replace(c.actions))]
        if key is not None:
            found = self.change(f"{base}[{format_key(key)}]")
            return [found] if found and (not replaced or is_replace(found.actions)) else []
        return list(self._instances(base, replaced))

    def _instances(self, base: str, replaced: bool) -> list[ResourceChange]:
        """`base` and its keyed instances, in address order; memoised, since every copy of a
        resource with for_each names the same ones (a large plan: 1,000s of chains x 1,000s)."""
        found = self._instance_memo.get((base, replaced))
        if found is not None:
            return found
        if replaced:
            found = [c for c in self._instances(base, False) if is_replace(c.actions)]
        else:
            self.change("")  # builds the index
            index = self._change_index or {}
            found = [index[base]] if base in index else []
            if self._change_order is None:  # sorted once per plan; each call then bisects to its keys
                self._change_order = sorted(index)
            order, keyed = self._change_order, base + "["
            at = bisect.bisect_left(order, keyed)
            while at < len(order) and order[at].startswith(keyed):
                found.append(index[order[at]])
                at += 1
        self._instance_memo[(base, replaced)] = found
        return found

    def cause_chains(self, rc: ResourceChange, path: list[str | int], depth: int = 0) -> list[Cause]:
        """graph.trace, continued through resources this plan replaces.

        When a chain ends at a resource that the plan replaces, that resource's own forcing
        attributes are traced in turn and appended, so the chain reaches the first cause.
        """
        addr = resource_address(rc)
        if addr is None:
            return []
        out: list[Cause] = []
        for chain in self.graph.trace(rc.full_address, path):
            root = chain[-1]
            parts = split_ref(root.ref) if root.kind == "resource" else None
            upstream = self.instance_changes(addr, root.module, parts[1], parts[2], parts[3], replaced=True) \
                if parts and parts[0] == "managed" else []
            if not upstream or depth >= 5:
                out.append(Cause(chain=chain, owner=addr))
                continue
            up = upstream[0]
            root.note = f"{up.full_address} is replaced by this plan: its new {parts[4] or 'value'} is known only after apply"
            up_paths = self.replace_paths(up)
            continued = False
            for up_path in up_paths:
                for sub in self.cause_chains(up, up_path, depth + 1):
                    out.append(Cause(chain=chain + sub.chain, owner=sub.owner, through=[up.full_address, *sub.through]))
                    continued = True
            if not continued:
                reason = self.reason_words(up.action_reason) if up.action_reason else None
                if reason:
                    root.note += f" ({up.full_address}: {reason})"
                out.append(Cause(chain=chain, owner=addr, through=[up.full_address]))
        return out

    @staticmethod
    def reason_words(reason: str | None) -> str | None:
        return ACTION_REASONS.get(reason or "")


ACTION_REASONS: dict[str, str] = {
    "replace_because_cannot_update": "an argument that cannot be updated in place changed",
    "replace_because_tainted": "it is tainted (marked by `terraform taint`, or its creation or a provisioner failed)",
    "replace_by_request": "replacement was requested with `-replace`",
    "replace_by_triggers": "a `lifecycle.replace_triggered_by` reference changed",
    "delete_because_no_resource_config": "its resource block is no longer in the code",
    "delete_because_wrong_repetition": "`count`/`for_each` was added or removed, so this instance key no longer exists",
    "delete_because_count_index": "its index is beyond the new `count`",
    "delete_because_each_key": "its key is no longer in `for_each`",
    "delete_because_no_module": "its module call (or that module instance) is no longer in the code",
    "delete_because_no_move_target": "a `moved` block moves it to an address that does not exist in the code",
    "delete_because_enabled_false": "`lifecycle { enabled = false }` turns it off (OpenTofu)",
    "read_because_config_unknown": "its arguments use values that are known only after apply",
    "read_because_dependency_pending": "it depends on resources with changes pending in this plan",
    "read_because_check_nested": "it is inside a `check` block",
    "forgot_because_lifecycle_destroy_in_state": "its state says `lifecycle { destroy = false }` (OpenTofu)",
    "forgot_because_lifecycle_destroy_in_config": "the code says `lifecycle { destroy = false }` (OpenTofu)",
}


def resource_address(rc: ResourceChange) -> Address | None:
    return parse_address(rc.full_address)
