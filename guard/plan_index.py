"""Indexes over one plan, each built once: changes by address and by configuration node, data
source instances, drift, and decoded value trees.

Nothing here scans the whole plan per question. A large plan has 100,000 changes; the indexes
are dicts keyed by address or by configuration node (module path without keys, resource
address inside the module), and a change's value trees are decoded once, on first use, into a
cache that lives here, not in the plan's structs.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .address import Address, parse_address
from .model import NOOP, Plan, ResourceChange, StateResource, iter_state_data, raw_value
from .values import get_path, is_marked

# The parts of a change object that hold value trees.
PARTS = ("before", "after", "after_unknown", "before_sensitive", "after_sensitive")
# Changes whose decoded parts are kept (the most recently used). A decoded aws_instance takes
# about 20 KB of Python objects against 5 KB of JSON: kept for all of 20,000 findings, that was
# 400 MB. The rules read a change's parts close together, so a few hundred are enough.
PARTS_KEPT = 256


def is_replace(actions: tuple[str, ...]) -> bool:
    return "delete" in actions and "create" in actions


ConfigNode = tuple[tuple[str, ...], str]  # (module names, "aws_instance.x" or "data.aws_ami.y")


@dataclass
class DataInstance:
    """A data source instance read at plan time (prior_state) or deferred to apply (a `read` change)."""

    address: str
    addr: Address
    state: StateResource | None = None
    read: ResourceChange | None = None
    _values: Any = None
    _marks: Any = None
    _decoded: bool = False

    def _decode(self) -> None:
        if not self._decoded:
            self._decoded = True
            if self.state is not None:
                values = raw_value(self.state.values)
                self._values = values if isinstance(values, dict) else {}
                self._marks = raw_value(self.state.sensitive_values)

    @property
    def values(self) -> dict[str, Any]:
        """What it read at plan time ({} when it is read during apply)."""
        self._decode()
        return self._values if isinstance(self._values, dict) else {}

    @property
    def marks(self) -> Any:
        """Its `sensitive_values` tree."""
        self._decode()
        return self._marks

    @property
    def deferred(self) -> bool:
        return self.read is not None and "read" in self.read.actions


@dataclass
class PlanIndex:
    plan: Plan
    changes: dict[str, ResourceChange] = field(default_factory=dict)  # managed, not deposed
    by_node: dict[ConfigNode, list[ResourceChange]] = field(default_factory=dict)
    data: dict[str, DataInstance] = field(default_factory=dict)
    data_by_node: dict[ConfigNode, list[DataInstance]] = field(default_factory=dict)
    drift: dict[str, ResourceChange] = field(default_factory=dict)
    active: list[ResourceChange] = field(default_factory=list)  # every change that does something
    _addresses: dict[str, Address | None] = field(default_factory=dict)
    _parts: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    _at: dict[int, dict[tuple, Any]] = field(default_factory=dict)
    _by_value: dict[str, list[str]] | None = None
    _active_order: list[tuple[str, int]] | None = None
    _replacements: list[ResourceChange] | None = None

    @classmethod
    def build(cls, plan: Plan) -> PlanIndex:
        ix = cls(plan)
        inst: DataInstance | None  # a data source instance, in both loops below
        for rc in plan.changes:
            if rc.deposed not in (None, False, ""):
                continue
            address = rc.full_address
            if rc.actions != NOOP:
                ix.active.append(rc)
            if rc.mode == "data":
                addr = ix.address(address)
                if addr is not None and address not in ix.data:
                    inst = ix.data[address] = DataInstance(address, addr, read=rc)
                    ix.data_by_node.setdefault((addr.module_names, addr.local), []).append(inst)
                continue
            if address in ix.changes:
                continue
            ix.changes[address] = rc
            # The parsed address of an unchanged resource is kept only once something asks for it
            # (80,000 of them in a large plan, and few are ever asked about).
            addr = ix.address(address) if rc.actions != NOOP else parse_address(address)
            if addr is not None:
                ix.by_node.setdefault((addr.module_names, addr.local), []).append(rc)
        ps = plan.prior_state
        root = ps.values.root_module if ps is not None and ps.values is not None else None
        for res in iter_state_data(root):
            address = res.address
            addr = ix.address(address)
            if addr is None:
                continue
            inst = ix.data.get(address)
            if inst is None:
                inst = ix.data[address] = DataInstance(address, addr, state=res)
                ix.data_by_node.setdefault((addr.module_names, addr.local), []).append(inst)
            elif inst.state is None:
                inst.state = res
        for rc in plan.drift:
            if rc.mode == "managed" and rc.deposed in (None, False, ""):
                ix.drift.setdefault(rc.full_address, rc)
        return ix

    # -- addresses ----------------------------------------------------------------------------
    def address(self, text: str) -> Address | None:
        """Parsed address, cached (every rule asks about the same few thousand)."""
        try:
            return self._addresses[text]
        except KeyError:
            found = self._addresses[text] = parse_address(text)
            return found

    # -- values ---------------------------------------------------------------------------------
    def part(self, rc: ResourceChange, name: str) -> Any:
        """Decoded `before`, `after`, `after_unknown`, ... of one change; kept for the most
        recently read changes (`PARTS_KEPT`), decoded again after that."""
        parts = self._parts
        key = id(rc)
        cache = parts.get(key)
        if cache is None:
            cache = parts[key] = {}
            if len(parts) > PARTS_KEPT:
                parts.popitem(last=False)
        else:
            parts.move_to_end(key)
        if name not in cache:
            cache[name] = raw_value(getattr(rc.change, name))
        return cache[name]

    def at(self, rc: ResourceChange, name: str, path: tuple | list) -> Any:
        """`get_path(part(rc, name), path)`, remembered for every change and path asked about.

        The rules ask about one attribute of a change several times, far apart (the engine
        first, then the rule, the values shown, the fixes): the answers are kept, the decoded
        trees only for the last few changes (`part`)."""
        memo = self._at.get(id(rc))
        if memo is None:
            memo = self._at[id(rc)] = {}
        key = (name, tuple(path))
        try:
            return memo[key]
        except KeyError:
            found = memo[key] = get_path(self.part(rc, name), key[1])
            return found

    def marked(self, rc: ResourceChange, name: str, path: tuple | list) -> bool:
        """`is_marked(part(rc, name), path)` for a marker tree (`after_unknown`, `*_sensitive`),
        remembered like `at`."""
        memo = self._at.get(id(rc))
        if memo is None:
            memo = self._at[id(rc)] = {}
        key = (name, tuple(path), True)
        try:
            return memo[key]
        except KeyError:
            raw = getattr(rc.change, name)
            # A marker tree marks nothing when its JSON holds no `true` (the sensitive trees of
            # most changes): no need to decode it.
            found = memo[key] = b"true" in bytes(raw) and is_marked(self.part(rc, name), key[1])
            return found

    # -- selections -----------------------------------------------------------------------------
    def managed(self) -> Iterator[ResourceChange]:
        return iter(self.changes.values())

    def replacements(self) -> list[ResourceChange]:
        """Managed resources the plan replaces, in plan order."""
        if self._replacements is None:
            self._replacements = [rc for rc in self.changes.values() if is_replace(rc.actions)]
        return self._replacements

    def active_with_prefix(self, prefix: str) -> list[ResourceChange]:
        """The active changes whose full address starts with `prefix` (a resource or module
        address), in address order: found by bisection, not by scanning the plan."""
        if self._active_order is None:
            self._active_order = sorted((rc.full_address, i) for i, rc in enumerate(self.active))
        order = self._active_order
        out = []
        at = bisect.bisect_left(order, (prefix,))
        while at < len(order) and order[at][0].startswith(prefix):
            out.append(self.active[order[at][1]])
            at += 1
        return out

    def instances(self, names: tuple[str, ...], local: str) -> list[ResourceChange]:
        """Every change of one configuration resource, in every module instance and key."""
        return self.by_node.get((names, local), [])

    def data_instances(self, names: tuple[str, ...], local: str) -> list[DataInstance]:
        """Every instance of one configuration data source (read at plan time or during apply)."""
        return self.data_by_node.get((names, local), [])

    def data_with_value(self, value: str) -> list[str]:
        """Data source instances (read at plan time) that hold `value` as a top-level string, or
        in a top-level list of strings: how a value with no followable chain is recognised."""
        if self._by_value is None:
            self._by_value = {}
            for address, inst in self.data.items():
                for v in inst.values.values():
                    items = v if isinstance(v, list) else [v]
                    for item in items[:1000]:
                        if isinstance(item, str) and 6 <= len(item) <= 2048:
                            holders = self._by_value.setdefault(item, [])
                            if not holders or holders[-1] != address:
                                holders.append(address)
        return self._by_value.get(value, [])
