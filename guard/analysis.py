"""What the rules see of one plan: its indexes, configuration graph and cause engine, built once,
and the values of a change as reports show them (redacted where they must be)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .address import Address
from .config_graph import ConfigGraph, module_label
from .datasources import ALL_ATTRS_SAFE, data_attr_is_safe
from .engine import Cause, Engine, Hop
from .findings import ChainLink, Location
from .model import Plan, ResourceChange
from .plan_index import PlanIndex
from .sources import SourceTree
from .values import ABSENT, PLACEHOLDERS, SENSITIVE, UNKNOWN, is_marked, show_value


@dataclass
class Analysis:
    label: str
    plan: Plan
    index: PlanIndex
    graph: ConfigGraph
    engine: Engine
    stateful_types: frozenset[str]
    _links: dict[int, ChainLink] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)  # what rules share, built once per plan

    @classmethod
    def build(cls, label: str, plan: Plan, sources: SourceTree, stateful_types: frozenset[str],
              cwd: Path | None = None) -> Analysis:
        index = PlanIndex.build(plan)
        graph = ConfigGraph(plan, sources, cwd)
        return cls(label=label, plan=plan, index=index, graph=graph, engine=Engine(index, graph),
                   stateful_types=stateful_types)

    def is_stateful(self, rtype: str) -> bool:
        return rtype in self.stateful_types

    def address(self, rc: ResourceChange) -> Address | None:
        return self.index.address(rc.full_address)

    @cached_property
    def replacements(self) -> list[ResourceChange]:
        return self.index.replacements()

    def cause(self, rc: ResourceChange) -> Cause | None:
        return self.engine.explain(rc)

    @cached_property
    def drift_changed(self) -> set[str]:
        """Addresses this plan replaces because something outside the code changed: the instances
        a pin may serve (pinning them keeps what they run today)."""
        out = set()
        for rc in self.replacements:
            cause = self.cause(rc)
            if cause is not None and (cause.drift or cause.kind.value == "deferred_read"):
                out.add(rc.full_address)
        return out

    # -- locations ------------------------------------------------------------------------------
    def block_location(self, rc_or_addr: ResourceChange | Address | None) -> Location | None:
        addr = self.address(rc_or_addr) if isinstance(rc_or_addr, ResourceChange) else rc_or_addr
        if addr is None:
            return None
        return self.graph.resource_location(addr.module_names, addr.local)

    def attribute_location(self, rc: ResourceChange, path: tuple | list) -> tuple[Location | None, str | None]:
        addr = self.address(rc)
        if addr is None:
            return None, None
        kind = "data" if addr.mode == "data" else "resource"
        where = self.graph.where(addr.module_names, kind, addr.type, addr.name)
        return self.graph.attribute_line(where, list(path))

    # -- chains as reports show them ------------------------------------------------------------
    def link(self, hop: Hop) -> ChainLink:
        """The report's view of a hop (one object per hop, shared by every finding that shows it)."""
        found = self._links.get(id(hop))
        if found is None:
            found = ChainLink(ref=hop.ref, kind=hop.kind, module=module_label(hop.names), expression=hop.expression,
                              details=list(hop.details), location=self.graph.loc(hop.where, hop.line),
                              note=hop.note)
            self._links[id(hop)] = found
        return found

    def chain(self, cause: Cause | None, extra_note: dict[int, str] | None = None) -> list[ChainLink]:
        if cause is None:
            return []
        out = [self.link(h) for h in cause.chain]
        for i, note in (extra_note or {}).items():
            if 0 <= i < len(out) or -len(out) <= i < 0:
                out[i] = out[i].model_copy(update={"note": note})
        return out

    def through_words(self, cause: Cause) -> str:
        """`aws_instance.app (replaced)`, for each resource a chain passes that this plan changes."""
        out = []
        for address in cause.through:
            rc = self.index.changes.get(address)
            acts = rc.actions if rc is not None else ()
            how = ("replaced" if "delete" in acts and "create" in acts else "created" if "create" in acts
                   else "updated" if "update" in acts else "changes")
            out.append(f"{address} ({how})")
        return ", ".join(out)

    # -- values ---------------------------------------------------------------------------------
    def value_pair(self, rc: ResourceChange, path: tuple | list) -> tuple[str, str]:
        """Old and new value of an attribute, as text, redacted where the plan marks it sensitive."""
        at, marked = self.index.at, self.index.marked
        if marked(rc, "before_sensitive", path):
            before = SENSITIVE
        else:
            before = show_value(at(rc, "before", path))
        if marked(rc, "after_sensitive", path):
            after = SENSITIVE
        elif marked(rc, "after_unknown", path):
            after = UNKNOWN
        else:
            after = show_value(at(rc, "after", path))
        return before, after

    def shown_pair(self, rc: ResourceChange, path: tuple | list, cause: Cause | None = None) -> tuple[str, str]:
        """value_pair, also hidden when the value comes straight from a data source attribute not
        known to hold no secret (`aws_ssm_parameter.insecure_value` holds a secret unmarked), unless
        the code declassified it with `nonsensitive()`."""
        before, after = self.value_pair(rc, path)
        if before in PLACEHOLDERS and after in PLACEHOLDERS:
            return before, after
        if cause is None or tuple(cause.path) != tuple(path):
            cause = self.engine.explain_path(rc, tuple(path))
        root = cause.root
        if root is None or root.kind != "data_source" or cause.through:
            return before, after
        if not self.data_value_shown(cause):
            attr = root.attr[0] if root.attr else None
            hidden = f"(hidden: a value of {root.ref}{'.' + str(attr) if attr is not None else ''})"
            return (before if before in PLACEHOLDERS else hidden), (after if after in PLACEHOLDERS else hidden)
        return before, after

    def data_value_shown(self, cause: Cause) -> bool:
        root = cause.root
        if root is None or root.kind != "data_source":
            return True
        dtype = (root.target or root.ref).split(".")[1]
        attr = root.attr[0] if root.attr and isinstance(root.attr[0], str) else None
        if any(h.expression and "nonsensitive(" in h.expression for h in cause.chain):
            return True  # the code declassified it, and the plan does not mark it
        if data_attr_is_safe(dtype, attr) and dtype not in ALL_ATTRS_SAFE:
            return True
        if dtype in ALL_ATTRS_SAFE:
            data = cause.data
            marks = data.marks if data is not None else None
            return not is_marked(marks, list(root.attr))
        return False

    def safe_data_values(self, address: str) -> dict[str, str]:
        """What a data source read at plan time, limited to attributes known to hold no secret and
        not marked sensitive; lists as comma-separated text."""
        from .datasources import SAFE_DATA_ATTRS

        inst = self.index.data.get(address)
        if inst is None:
            return {}
        dtype = inst.addr.type
        out: dict[str, str] = {}
        for key in sorted(SAFE_DATA_ATTRS.get(dtype, ())):
            value = inst.values.get(key)
            if value in (None, "", [], {}) or is_marked(inst.marks, [key]):
                continue
            if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
                shown = ", ".join(str(v) for v in value[:5])
                out[key] = shown + (f", ... ({len(value)} in all)" if len(value) > 5 else "")
            elif isinstance(value, (str, int, float, bool)):
                out[key] = show_value(value)
        return out


__all__ = ["ABSENT", "Analysis", "SENSITIVE", "UNKNOWN"]
