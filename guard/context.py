"""What a rule sees of one plan: the plan, its reference graph and value helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from .address import Address, format_key, parse_address
from .graph import Graph
from .model import Plan, ResourceChange, get_path, is_marked, iter_state_resources, raw_value

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
ABSENT = "(none)"


def is_replace(actions: tuple[str, ...]) -> bool:
    return "delete" in actions and "create" in actions


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

    # -- resources ------------------------------------------------------------------------
    def managed_changes(self) -> Iterator[ResourceChange]:
        for rc in self.plan.changes:
            if rc.mode == "managed" and rc.deposed in (None, False, ""):
                yield rc

    def replacements(self) -> Iterator[ResourceChange]:
        for rc in self.managed_changes():
            if is_replace(rc.actions):
                yield rc

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
            for res in iter_state_resources(root):
                if res.mode == "data":
                    self._data_index[res.address] = res
        res = self._data_index.get(address)
        if res is None:
            return None
        values = raw_value(res.values)
        return (values if isinstance(values, dict) else {}), raw_value(res.sensitive_values)

    def data_read_change(self, address: str) -> ResourceChange | None:
        """The `read` change of a data source deferred to apply time, by full address."""
        for rc in self.plan.changes:
            if rc.mode == "data" and rc.address == address:
                return rc
        return None

    def data_instances(self, resource: Address, link_module: str, local: str) -> list[str]:
        """Full addresses a chain's data source may have, given the resource it feeds.

        Instance keys of the modules the resource and the data source share are taken from
        the resource's address; a data source with count/for_each gives several candidates.
        """
        depth = link_module.count("module.")
        prefix = ".".join(
            f"module.{m.name}" + (f"[{format_key(m.key)}]" if m.key is not None else "")
            for m in resource.modules[:depth]
        )
        base = f"{prefix}.{local}" if prefix else local
        self.data_state("")  # builds the index
        index = self._data_index or {}
        exact = [base] if base in index else []
        keyed = sorted(a for a in index if a.startswith(base + "["))
        if exact or keyed:
            return exact + keyed
        reads = [rc.address for rc in self.plan.changes if rc.mode == "data"
                 and (rc.address == base or rc.address.startswith(base + "["))]
        return reads or [base]


def resource_address(rc: ResourceChange) -> Address | None:
    return parse_address(rc.full_address)
