"""The cause engine: for one resource instance and one attribute path, where does the value come
from, and is that origin something a person asked for?

Two spaces, kept apart:

- **configuration space** (`trace_*`): a node is an expression of one module (a resource
  attribute, a module call argument, a local, an output, a `for_each` element). Its paths lead
  to roots: literals, root variables, data sources, resources, functions, and symbolic roots
  that depend on the instance (`each.value`, a data source indexed by `each.key`). Results are
  memoised per node, so diamonds of locals cost the number of nodes, not the number of paths,
  and every instance of a resource shares one trace.
- **instance space** (`resolve`): a resource instance's keys replace the symbolic roots:
  `each.value` becomes the `for_each` element for this key (traced and memoised per key), a
  keyed data source becomes the instance this resource instance reads, checked against the plan's
  values where keys are not enough.

`explain` then classifies one change: every forcing path gets a `Cause` (its kind, its chain,
the evidence), and the change's cause is the most decisive of them (`PRECEDENCE`). A chain that
cannot be followed to evidence is `not_proven`, never a guessed code change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from .address import Address, format_key
from .config_graph import ConfigGraph, all_references, expression_at, module_label, most_specific, references
from .datasources import DataClass, data_class, volatile_data
from .diff import leaf_changes
from .hcl import VOLATILE_FUNCTIONS, Ref, literal_key, scan_expression, scan_value, single_reference
from .model import ResourceChange, raw_value
from .plan_index import DataInstance, PlanIndex, is_replace
from .sources import Where, expression_text
from .values import get_path, path_text

MAX_ROOTS = 64  # roots kept per node; more are counted, not listed
MAX_DEPTH = 60  # hops through locals, variables and outputs
MAX_UPSTREAM = 8  # replaced resources followed in a row (a replaced subnet replaces its instances)
IMAGE_ATTRS = ("id", "image_id")  # aws_ami attributes that are the image


class CauseKind(str, Enum):
    image_drift = "image_drift"          # a most_recent aws_ami picked a new image
    world_drift = "world_drift"          # another data source read at plan time returns a new value
    identity_change = "identity_change"  # the account or region the plan runs with changed
    deferred_read = "deferred_read"      # a data source read only during apply: unknown at plan time
    volatile = "volatile"                # timestamp(), uuid(), bcrypt(): new on every run
    code_change = "code_change"          # a literal or a computation of the code
    variable_change = "variable_change"  # a root variable's value (-var, .tfvars, TF_VAR_, default)
    trigger = "trigger"                  # replace_triggered_by, on a change that was asked for
    taint = "taint"
    requested = "requested"              # -replace
    not_proven = "not_proven"            # the chain cannot be followed to evidence


# One order for every change with several causes: the most decisive first. A change whose
# forcing paths have different causes is reported under the first kind in this list.
PRECEDENCE: tuple[CauseKind, ...] = (
    CauseKind.deferred_read, CauseKind.volatile, CauseKind.image_drift, CauseKind.world_drift,
    CauseKind.identity_change, CauseKind.not_proven, CauseKind.taint, CauseKind.requested,
    CauseKind.trigger, CauseKind.variable_change, CauseKind.code_change,
)
_RANK = {kind: i for i, kind in enumerate(PRECEDENCE)}
DRIFT_KINDS = frozenset({CauseKind.image_drift, CauseKind.world_drift, CauseKind.identity_change})
ASKED_KINDS = frozenset({CauseKind.code_change, CauseKind.variable_change, CauseKind.trigger,
                         CauseKind.taint, CauseKind.requested})


def rank(kind: CauseKind) -> int:
    return _RANK[kind]


Scope = tuple  # ("resource", names, local) or ("call", parent names, call name)


@dataclass(frozen=True, eq=False)
class Hop:
    """One step of a chain. Roots are hops too (the last of a chain)."""

    kind: str  # attribute local variable module_input output for_each each_value each_key count_index
    # data_source resource literal function unset unresolved meta trigger
    ref: str
    names: tuple[str, ...] = ()
    expression: str | None = None
    where: Where | None = None
    line: int | None = None
    details: tuple[str, ...] = ()
    note: str | None = None
    target: str | None = None  # data_source/resource: its address inside the module
    attr: tuple[str | int, ...] = ()  # what the reference reads of the target (`id`, `names[0]`)
    index: str | None = None  # index expression written on the target (`each.key`, `0`)
    scope: Scope | None = None  # where each.*/count.* of this hop resolve
    value: Any = None
    has_value: bool = False
    sensitive: bool = False
    site: tuple | None = None  # where the expression is written, for pins (see fixes.py)
    bind: tuple | None = None  # (module depth, key or index expression) set by `module.m[KEY].out`
    pure: bool = False  # a pure data source, followed into its arguments


Path = tuple[Hop, ...]


@dataclass
class Chain:
    """A path resolved for one instance: the hops, and what its root is in this plan."""

    hops: Path
    data: list[DataInstance] = field(default_factory=list)
    upstream: list[ResourceChange] = field(default_factory=list)
    matched: bool = False  # a data root holds the attribute's new value
    dead: bool = False  # a data root with no instance at all (count = 0): no source of anything

    @property
    def root(self) -> Hop:
        return self.hops[-1]


@dataclass
class Cause:
    """Why one forcing path (or the whole change) is what the plan says, with the evidence."""

    kind: CauseKind
    change: ResourceChange
    path: tuple[str | int, ...] = ()
    chain: Path = ()
    data: DataInstance | None = None
    through: tuple[str, ...] = ()  # replaced resources or triggers passed on the way
    evidence: str = ""
    matched_by_value: bool = False
    others: int = 0  # chains found besides the one shown
    inner: Cause | None = None  # the cause of an upstream replacement or a trigger
    paths: tuple[tuple[str | int, ...], ...] = ()  # every forcing path of the change

    @property
    def root(self) -> Hop | None:
        return self.chain[-1] if self.chain else None

    @property
    def drift(self) -> bool:
        return self.kind in DRIFT_KINDS

    @property
    def asked(self) -> bool:
        return self.kind in ASKED_KINDS


def _root_key(hop: Hop) -> tuple:
    return (hop.kind, hop.names, hop.target or hop.ref, hop.attr, hop.index, hop.scope, id(hop)
            if hop.kind in ("literal", "unresolved", "unset", "function", "meta") else 0)


# Roots that can be the cause of an unasked change: kept first when a node has more roots than the cap.
_SAFE_ROOTS = frozenset({"literal", "variable", "meta", "unset", "each_key", "count_index"})
_CUT = Hop(kind="unresolved", ref="(more sources)",
           note=f"more than {MAX_ROOTS} sources feed this value; the ones not followed are not proven harmless")


def _union(groups: Iterable[Iterable[Path]], cap: int = MAX_ROOTS) -> tuple[tuple[Path, ...], bool]:
    """Paths with distinct roots (the first path to each root), at most `cap`.

    Past the cap, a root that can carry drift (a data source, a resource, a function, a chain that
    stops) takes the place of a literal or a variable, and one root says that sources were left
    out: a missed cause must never read as a code change (fail safe)."""
    out: dict[tuple, Path] = {}
    safe: list[tuple] = []
    cut = False
    for group in groups:
        for path in group:
            root = path[-1]
            key = _root_key(root)
            if key in out:
                continue
            if len(out) >= cap - 1:
                cut = True
                if root.kind in _SAFE_ROOTS or root is _CUT or not safe:
                    continue
                del out[safe.pop()]
            out[key] = path
            if root.kind in _SAFE_ROOTS:
                safe.append(key)
    paths = tuple(out.values())
    if cut:
        paths += ((_CUT,),)
    return paths, cut


def plan_refs(texts: list[str]) -> list[Ref]:
    """The references of a plan's `references` list, the repeated shorter forms left out."""
    return [r for text in most_specific(texts) for r in scan_expression(text).refs[:1]]


def _decisive_first(keys: Iterable[str]) -> list[str]:
    first = ("most_recent", "owners", "name", "name_regex", "filter", "state", "backend", "config")
    keys = list(keys)
    return [k for k in first if k in keys] + sorted(k for k in keys if k not in first)


def _summary(expr: Any) -> str | None:
    if not isinstance(expr, dict):
        return None
    if "constant_value" in expr:
        import json

        return json.dumps(expr["constant_value"], sort_keys=True, ensure_ascii=False)
    refs = most_specific(references(expr))
    return ", ".join(refs) if refs else None


class Engine:
    """One per plan: traces memoised across every change, rule and finding."""

    def __init__(self, index: PlanIndex, graph: ConfigGraph):
        self.index = index
        self.graph = graph
        self._memo: dict[tuple, tuple[Path, ...]] = {}
        self._busy: set[tuple] = set()
        self.cut: set[tuple] = set()  # nodes whose roots were capped
        self._each_memo: dict[tuple, tuple[Path, ...]] = {}
        self._explained: dict[tuple[int, tuple], Cause] = {}
        self._change_cause: dict[int, Cause] = {}
        self._stack: list[int] = []
        self._keyed_memo: dict[tuple[int, int], tuple[list, tuple[dict, dict] | None]] = {}
        variables = self.index.plan.variables
        self._root_vars = variables if isinstance(variables, dict) else {}

    # ------------------------------------------------------------------------------------------
    # configuration space
    def _memoised(self, key: tuple, compute) -> tuple[Path, ...]:
        found = self._memo.get(key)
        if found is not None:
            return found
        if key in self._busy or len(self._busy) > MAX_DEPTH:
            hop = Hop(kind="unresolved", ref=str(key[2]) if len(key) > 2 else "?", names=key[1] if len(key) > 1 else (),
                      note="reference cycle or chain too deep")
            return ((hop,),)
        self._busy.add(key)
        try:
            paths, cut = _union([compute()])
        finally:
            self._busy.discard(key)
        if cut:
            self.cut.add(key)
        self._memo[key] = paths
        return paths

    def source_value(self, names: tuple[str, ...], kind: str, labels: tuple[str, ...],
                     path: Iterable[str | int]) -> tuple[bool, Any, Where | None]:
        """The python-hcl2 value written at `path` in a block, if the sources have it."""
        found = self.graph.block(names, kind, *labels)
        if found is None:
            return False, None, None
        where, node = found
        value: Any = node
        for step in path:
            if isinstance(value, list) and isinstance(step, int):
                value = value[step] if 0 <= step < len(value) else None
            elif isinstance(value, list) and len(value) == 1 and isinstance(step, str):
                value = value[0].get(step) if isinstance(value[0], dict) else None
            elif isinstance(value, dict) and isinstance(step, str):
                value = value.get(step)
            else:
                value = None
            if value is None:
                return False, None, where
        return True, value, where

    def trace_attr(self, names: tuple[str, ...], local: str, path: tuple[str | int, ...]) -> tuple[Path, ...]:
        """Paths from a resource attribute to its roots (configuration space)."""
        return self._memoised(("attr", names, local, path), lambda: self._trace_attr(names, local, path))

    def _trace_attr(self, names: tuple[str, ...], local: str, path: tuple[str | int, ...]) -> list[Path]:
        cfg = self.graph.resource(names, local)
        parts = local.split(".")
        kind, labels = ("data", tuple(parts[1:3])) if parts[0] == "data" else ("resource", tuple(parts[:2]))
        has_src, src, block_where = self.source_value(names, kind, labels, path)
        text: str | None = None
        line: int | None = None
        if block_where is not None:
            line = self.graph.sources.attr_line(block_where, [p for p in path if isinstance(p, str)])
            text = self.graph.sources.line_text(block_where.file, line) if line else None
        ref = f"{local}.{path_text(path)}" if path else local
        expr = expression_at(self.graph.exprs(cfg), path) if cfg is not None else None
        scope: Scope = ("resource", names, local)
        first = Hop(kind="attribute", ref=ref, names=names, expression=text or _summary(expr),
                    where=block_where, line=line or (block_where.line if block_where else None),
                    site=("resource", names, local, path))
        if cfg is None:
            return [(replace(first, kind="unresolved", note="not found in the plan's configuration"),)]
        if expr is None and not has_src:
            unset = Hop(kind="unset", ref=ref, names=names,
                        note="not set in the configuration: the provider computes it or a default applies")
            return [(first, unset)]
        return [(first, *rest) for rest in self._expression(names, expr, has_src, src, scope)]

    def _expression(self, names: tuple[str, ...], expr: Any, has_src: bool, src: Any,
                    scope: Scope | None) -> tuple[Path, ...]:
        """Paths of one expression, from its source text when there is one, else from the plan."""
        groups: list[Iterable[Path]] = []
        refs: list[Ref]
        functions: list[str] = []
        if has_src:
            scan = scan_value(src)
            refs, functions = scan.refs, scan.functions
        else:
            refs = plan_refs(references(expr))
        volatile = sorted({f for f in functions if f in VOLATILE_FUNCTIONS})
        for fn in volatile:
            groups.append([(Hop(kind="function", ref=f"{fn}()", names=names,
                                note="returns a new value on every run"),)])
        for ref in refs:
            groups.append(self.trace_ref(names, ref, scope))
        if not refs and not volatile:
            if isinstance(expr, dict) and "constant_value" in expr:
                groups.append([(Hop(kind="literal", ref="constant", names=names, value=expr["constant_value"],
                                    has_value=True, note="a constant in the code"),)])
            elif has_src:
                plain = not (isinstance(src, str) and "${" in src) and not isinstance(src, (dict, list))
                groups.append([(Hop(kind="literal", ref="constant" if plain else "expression", names=names,
                                    value=src if plain else None, has_value=plain,
                                    expression=None if plain else expression_text(src),
                                    note="a constant in the code" if plain else
                                    "an expression of the code with no references"),)])
            else:
                groups.append([(Hop(kind="unresolved", ref="expression", names=names,
                                    note="an expression with no references (a function call?); run with -C DIR "
                                         "to read it"),)])
        paths, _ = _union(groups)
        return paths

    def trace_ref(self, names: tuple[str, ...], ref: Ref, scope: Scope | None) -> tuple[Path, ...]:
        head = ref.head
        scoped = head in ("each", "count") or (ref.index is not None
                                               and ("each." in ref.index or "count." in ref.index))
        key = ("ref", names, ref.text, scope if scoped else None)
        return self._memoised(key, lambda: self._trace_ref(names, ref, scope))

    def _trace_ref(self, names: tuple[str, ...], ref: Ref, scope: Scope | None) -> list[Path]:
        steps = ref.steps
        head = steps[0]
        label = module_label(names)
        if head == "var":
            return list(self.trace_var(names, steps[1]))
        if head == "local":
            return list(self.trace_local(names, steps[1], literal_key(ref.index_after(2))))
        if head == "module" and len(steps) >= 2:
            return list(self._trace_output(names, steps[1], steps[2] if len(steps) > 2 else None,
                                           ref.index_after(2), scope))
        if head == "data" and len(steps) >= 3:
            return list(self._data(names, ref, scope))
        if head == "each":
            kind = "each_value" if steps[1] == "value" else "each_key"
            return [(Hop(kind=kind, ref=".".join(steps[:2]), names=names, scope=scope, attr=tuple(steps[2:])),)]
        if head == "count":
            return [(Hop(kind="count_index", ref="count.index", names=names, scope=scope),)]
        if head in ("path", "terraform", "self"):
            return [(Hop(kind="meta", ref=ref.text, names=names, note="a property of the configuration"),)]
        local = f"{steps[0]}.{steps[1]}"
        kind, labels = "resource", (steps[0], steps[1])
        where = self.graph.where(names, kind, *labels)
        del label
        return [(Hop(kind="resource", ref=ref.text, names=names, target=local, attr=ref.attr_path(2),
                     index=ref.index_after(2), scope=scope, where=where, line=where.line if where else None),)]

    def trace_var(self, names: tuple[str, ...], name: str) -> tuple[Path, ...]:
        return self._memoised(("var", names, name), lambda: self._trace_var(names, name))

    def _trace_var(self, names: tuple[str, ...], name: str) -> list[Path]:
        mod = self.graph.module(names)
        variables = mod.variables if mod is not None and isinstance(mod.variables, dict) else {}
        decl = variables.get(name)
        where = self.graph.where(names, "variable", name)
        sensitive = bool(decl is not None and decl.sensitive)
        default = raw_value(decl.default) if decl is not None else None
        has_default = decl is not None and len(decl.default) > 0
        if not names:
            var = self._root_vars.get(name)
            has = var is not None and len(var.value) > 0
            value = raw_value(var.value) if has and var is not None else None
            hop = Hop(kind="variable", ref=f"var.{name}", names=(), where=where, line=where.line if where else None,
                      value=value, has_value=has, sensitive=sensitive,
                      details=((("default = " + _json(default)) if has_default and not sensitive else "",)
                               if has_default else ()),
                      note="a root module variable: set by -var, a .tfvars file, TF_VAR_" + name + " or its default",
                      site=("variable", (), name))
            if has and has_default and value == default:
                line = self.graph.sources.attr_line(where, ["default"]) if where else None
                hop = replace(hop, note="a root module variable; its value is the default written in the code"
                                        + (f" (line {line})" if line else ""), line=line or hop.line)
            return [(hop,)]
        call = self.graph.call(names)
        var_hop = Hop(kind="variable", ref=f"var.{name}", names=names, where=where, line=where.line if where else None,
                      sensitive=sensitive)
        args = self.graph.exprs(call) if call is not None else {}
        parent, call_name = names[:-1], names[-1]
        has_src, src, call_where = self.source_value(parent, "module", (call_name,), (name,))
        if name not in args and not has_src:
            default_hop = replace(var_hop, kind="literal", value=default, has_value=has_default,
                                  note=f"not set by the call of module.{call_name}: its default applies")
            return [(default_hop,)]
        line = self.graph.sources.attr_line(call_where, [name]) if call_where else None
        text = self.graph.sources.line_text(call_where.file, line) if call_where and line else None
        call_hop = Hop(kind="module_input", ref=f"module.{call_name}.{name}", names=parent,
                       expression=text or _summary(args.get(name)), where=call_where, line=line,
                       site=("call", parent, call_name, name))
        rest = self._expression(parent, args.get(name), has_src, src, ("call", parent, call_name))
        return [(var_hop, call_hop, *r) for r in rest]

    def trace_local(self, names: tuple[str, ...], name: str, key: Any = None) -> tuple[Path, ...]:
        return self._memoised(("local", names, name, key), lambda: self._trace_local(names, name, key))

    def _trace_local(self, names: tuple[str, ...], name: str, key: Any) -> list[Path]:
        ref = f"local.{name}"
        if not self.graph.sources.available:
            return [(Hop(kind="unresolved", ref=ref, names=names,
                         note="locals are not in the plan JSON: "
                              "run with -C DIR (the root module's folder) to follow it"),)]
        found = self.graph.sources.local(self.graph.module_dir(names), name)
        if found is None:
            return [(Hop(kind="unresolved", ref=ref, names=names, note="not found in the .tf files of this module"),)]
        where, value = found
        keyed = key is not None and isinstance(value, dict) and key in value
        # A keyed lookup shows its element only: the text of the whole map (N entries, looked up
        # once per key) is not written.
        hop = Hop(kind="local", ref=ref, names=names, expression=None if keyed else expression_text(value),
                  where=where, line=where.line, site=("local", names, name))
        if keyed:
            value = value[key]
            hop = replace(hop, ref=f"{ref}[{format_key(key)}]", expression=expression_text(value),
                          site=("local", names, name, key))
        return [(hop, *rest) for rest in self._expression(names, None, True, value, None)]

    def _trace_output(self, names: tuple[str, ...], call: str, output: str | None, index: str | None,
                      scope: Scope | None) -> list[Path]:
        child = names + (call,)
        mod = self.graph.module(child)
        outputs = mod.outputs if mod is not None and isinstance(mod.outputs, dict) else {}
        out = outputs.get(output) if output else None
        ref = f"module.{call}.{output}" if output else f"module.{call}"
        if out is None:
            return [(Hop(kind="unresolved", ref=ref, names=names,
                         note="module output not found in the configuration"),)]
        has_src, src, where = self.source_value(child, "output", (output or "",), ("value",))
        line = self.graph.sources.attr_line(where, ["value"]) if where else None
        expr = raw_value(out.expression)
        bind = (len(names), index, scope) if index is not None else None
        hop = Hop(kind="output", ref=ref, names=child,
                  expression=_summary(expr) if not has_src else expression_text(src),
                  where=where, line=line, site=("output", child, output), bind=bind)
        return [(hop, *rest) for rest in self._expression(child, expr, has_src, src, None)]

    def _data(self, names: tuple[str, ...], ref: Ref, scope: Scope | None) -> list[Path]:
        dtype, dname = ref.steps[1], ref.steps[2]
        local = f"data.{dtype}.{dname}"
        cfg = self.graph.resource(names, local)
        where = self.graph.where(names, "data", dtype, dname)
        exprs = self.graph.exprs(cfg) if cfg is not None else {}
        details = self.data_details(exprs)
        if cfg is not None and cfg.depends_on:
            details.append("depends_on = [" + ", ".join(d for d in cfg.depends_on if isinstance(d, str)) + "]")
        hop = Hop(kind="data_source", ref=local, names=names, details=tuple(details), where=where,
                  line=where.line if where else None, target=local, attr=ref.attr_path(3), index=ref.index_after(3),
                  scope=scope)
        if data_class(dtype) is DataClass.pure and cfg is not None:
            hop = replace(hop, pure=True, note="computed from its arguments (it reads nothing outside the code)")
            groups: list[Iterable[Path]] = []
            has_src, src, _ = self.source_value(names, "data", (dtype, dname), ())
            if has_src and isinstance(src, dict):
                args = {k: v for k, v in src.items() if not k.startswith("__") and k not in ("depends_on", "provider",
                                                                                         "lifecycle")}
                if args:
                    groups.append(self._expression(names, None, True, args, ("resource", names, local)))
            else:
                refs = plan_refs(all_references(exprs))
                for r in refs:
                    groups.append(self.trace_ref(names, r, ("resource", names, local)))
            paths, _ = _union(groups)
            if not paths:
                return [(hop,)]
            return [(hop, *rest) for rest in paths]
        return [(hop,)]

    @staticmethod
    def data_details(exprs: dict[str, Any]) -> list[str]:
        """A data source's arguments as `key = value` lines, decisive ones first."""
        out = []
        for key in _decisive_first(exprs):
            value = exprs[key]
            if isinstance(value, list):
                for block in value:
                    if isinstance(block, dict):
                        inner = ", ".join(f"{k} = {_summary(v)}" for k, v in sorted(block.items()) if _summary(v))
                        out.append(f"{key} {{ {inner} }}")
            else:
                text = _summary(value)
                if text is not None:
                    out.append(f"{key} = {text}")
        return out

    # for_each elements ------------------------------------------------------------------------
    def each_value(self, scope: Scope, key: Any) -> tuple[Path, ...]:
        """Paths of the `for_each` element for one key (memoised per scope and key)."""
        memo = (scope, key)
        found = self._each_memo.get(memo)
        if found is None:
            found = self._each_memo[memo] = _union([self._each_value(scope, key)])[0]
        return found

    def _each_value(self, scope: Scope, key: Any) -> list[Path]:
        kind, names, name = scope[0], scope[1], scope[2]
        if kind == "resource":
            parts = name.split(".")
            block_kind, labels = ("data", tuple(parts[1:3])) if parts[0] == "data" else ("resource", tuple(parts[:2]))
            cfg: Any = self.graph.resource(names, name)
        else:
            block_kind, labels = "module", (name,)
            cfg = self.graph.call(names + (name,))
        has_src, src, where = self.source_value(names, block_kind, labels, ("for_each",))
        line = self.graph.sources.attr_line(where, ["for_each"]) if where else None
        json_expr = raw_value(cfg.for_each_expression) if cfg is not None else None
        keyed = f"[{format_key(key)}]" if key is not None else ""
        if has_src and isinstance(src, dict) and isinstance(key, str) and key in src:
            element = src[key]
            key_line = self.graph.sources.attr_line(where, ["for_each", key]) if where else None
            hop = Hop(kind="for_each", ref=f"for_each{keyed}", names=names, expression=expression_text(element),
                      where=where, line=key_line or line, site=("for_each", names, block_kind, labels, key))
            return [(hop, *rest) for rest in self._expression(names, None, True, element, None)]
        hop = Hop(kind="for_each", ref=f"for_each{keyed}", names=names,
                  expression=expression_text(src) if has_src else _summary(json_expr), where=where, line=line,
                  note="the value for this key, in the whole for_each expression")
        single = single_reference(src) if has_src else None
        if single is not None and single.head == "local":
            return [(hop, *rest) for rest in self.trace_local(names, single.steps[1], key)]
        if single is not None and single.head == "var" and not names:
            var = self._root_vars.get(single.steps[1])
            value = raw_value(var.value) if var is not None else None
            if isinstance(value, dict) and key in value:
                where_v = self.graph.where((), "variable", single.steps[1])
                return [(hop, Hop(kind="variable", ref=f"var.{single.steps[1]}{keyed}", names=(), value=value[key],
                                  has_value=True, where=where_v, line=where_v.line if where_v else None,
                                  note="a root module variable: set by -var, a .tfvars file, TF_VAR_ or its default"))]
        if has_src and isinstance(src, str) and "${" in src and not scan_value(src).refs:
            # toset(["a", "b"]) and the like: each.value is the key itself, a literal of the code
            return [(hop, Hop(kind="literal", ref="constant", names=names, value=key, has_value=True,
                              note="a for_each key written in the code"))]
        rest = self._expression(names, json_expr, has_src, src, None)
        return [(hop, *r) for r in rest]

    # ------------------------------------------------------------------------------------------
    # instance space
    @staticmethod
    def scope_key(scope: Scope | None, addr: Address) -> tuple[bool, Any]:
        """(known, key) of `each`/`count` in `scope` for the resource instance `addr`."""
        if scope is None:
            return False, None
        if scope[0] == "resource":
            if addr.module_names == scope[1] and addr.local == scope[2]:
                return True, addr.key
            return False, None
        parent, call = scope[1], scope[2]
        depth = len(parent)
        if addr.module_names[: depth + 1] == parent + (call,):
            return True, addr.modules[depth].key
        return False, None

    def resolve(self, addr: Address, paths: Iterable[Path], new: Any = None, known: bool = False,
                depth: int = 0) -> list[Chain]:
        """Paths of configuration space, for one instance: symbolic roots replaced."""
        out: list[Chain] = []
        for path in paths:
            root = path[-1]
            if root.kind == "each_value" and depth < 8:
                ok, key = self.scope_key(root.scope, addr)
                if not ok or key is None:
                    unknown = replace(root, kind="unresolved", note="the for_each key of this instance is not known")
                    out.append(Chain(hops=path[:-1] + (unknown,)))
                    continue
                sub = self.each_value(root.scope, key)  # type: ignore[arg-type]
                each = replace(root, ref=f"each.value ({format_key(key)})")
                out.extend(self.resolve(addr, [path[:-1] + (each,) + s for s in sub], new, known, depth + 1))
            elif root.kind in ("each_key", "count_index"):
                ok, key = self.scope_key(root.scope, addr)
                hop = replace(root, kind="literal", value=key, has_value=ok,
                              note="this instance's key" if ok else "the key of this instance is not known")
                out.append(Chain(hops=path[:-1] + (hop,)))
            elif root.kind == "data_source":
                out.append(self._resolve_data(addr, path, new, known))
            elif root.kind == "resource":
                out.append(Chain(hops=path, upstream=self._targets(addr, path, root)))
            else:
                out.append(Chain(hops=path))
        return out

    def _module_keys(self, addr: Address, path: Path, names: tuple[str, ...]) -> list[tuple[bool, Any]]:
        """For each module step of `names`: (known, key) from the instance or the path's bindings."""
        keys: list[tuple[bool, Any]] = []
        shared = True
        for i, name in enumerate(names):
            if shared and i < len(addr.modules) and addr.modules[i].name == name:
                keys.append((True, addr.modules[i].key))
                continue
            shared = False
            keys.append((False, None))
        for hop in path:
            if hop.bind is not None:
                depth, index, scope = hop.bind
                if depth < len(keys) and not keys[depth][0]:
                    lit = literal_key(index)
                    if lit is not None:
                        keys[depth] = (True, lit)
                    elif index in ("each.key", "count.index"):
                        keys[depth] = self.scope_key(scope, addr)
        return keys

    def _index_key(self, addr: Address, hop: Hop) -> tuple[bool, Any]:
        if hop.index is None:
            return False, None
        lit = literal_key(hop.index)
        if lit is not None:
            return True, lit
        if hop.index.strip() in ("each.key", "count.index"):
            return self.scope_key(hop.scope, addr)
        return False, None

    def _filter(self, addr: Address, path: Path, hop: Hop, candidates: list) -> list:
        keys = self._module_keys(addr, path, hop.names)
        own = self._index_key(addr, hop)
        if candidates and all(known for known, _ in keys):
            # Every module key known (the usual case): look the instance up instead of testing all
            # of them, which was quadratic for N module instances that each read their own data source.
            found = self._keyed(candidates, len(keys))
            if found is not None:
                mk = tuple(key for _, key in keys)
                try:
                    return list(found[1].get((mk, own[1]), ()) if own[0] else found[0].get(mk, ()))
                except TypeError:  # an unhashable key: test them one by one
                    pass
        out = []
        for cand in candidates:
            caddr = cand.addr if isinstance(cand, DataInstance) else self.index.address(cand.full_address)
            if caddr is None:
                continue
            if any(known and i < len(caddr.modules) and caddr.modules[i].key != key
                   for i, (known, key) in enumerate(keys)):
                continue
            if own[0] and caddr.key != own[1]:
                continue
            out.append(cand)
        return out

    def _keyed(self, candidates: list, depth: int) -> tuple[dict, dict] | None:
        """Candidates (the instances of one configuration node) by their module keys, and by
        module keys and own key, in their order; None when one is not `depth` modules deep."""
        memo = (id(candidates), depth)
        found = self._keyed_memo.get(memo)
        if found is None:
            by_modules: dict[tuple, list] = {}
            by_key: dict[tuple, list] = {}
            uniform = True
            try:
                for cand in candidates:
                    caddr = cand.addr if isinstance(cand, DataInstance) else self.index.address(cand.full_address)
                    if caddr is None:
                        continue
                    if len(caddr.modules) != depth:
                        uniform = False
                        break
                    mk = tuple(m.key for m in caddr.modules)
                    by_modules.setdefault(mk, []).append(cand)
                    by_key.setdefault((mk, caddr.key), []).append(cand)
            except TypeError:  # an unhashable key
                uniform = False
            found = self._keyed_memo[memo] = (candidates, (by_modules, by_key) if uniform else None)
        return found[1]

    def _resolve_data(self, addr: Address, path: Path, new: Any, known: bool) -> Chain:
        root = path[-1]
        every = self.index.data_instances(root.names, root.target or "")
        if not every and self.index.plan.prior_state is not None:
            return Chain(hops=path, dead=True)  # the plan read no instance of it: count = 0 or for_each {}
        candidates = self._filter(addr, path, root, every)
        matched = False
        if known and new is not None and candidates:
            hits = [d for d in candidates if _holds(d.values, root.attr, new)]
            if hits:
                candidates, matched = hits, True
        return Chain(hops=path, data=candidates, matched=matched)

    def _targets(self, addr: Address, path: Path, root: Hop) -> list[ResourceChange]:
        return self._filter(addr, path, root, self.index.instances(root.names, root.target or ""))

    # ------------------------------------------------------------------------------------------
    # classification
    def chains(self, rc: ResourceChange, path: tuple[str | int, ...]) -> list[Chain]:
        """Every chain of one attribute of one change, resolved for its instance."""
        addr = self.index.address(rc.full_address)
        if addr is None:
            return []
        new, known = self.new_value(rc, path)
        return self.resolve(addr, self.trace_attr(addr.module_names, addr.local, tuple(path)), new, known)

    def new_value(self, rc: ResourceChange, path: tuple[str | int, ...] | list) -> tuple[Any, bool]:
        if self.index.marked(rc, "after_unknown", path):
            return None, False
        return self.index.at(rc, "after", path), True

    def explain(self, rc: ResourceChange) -> Cause | None:
        """The cause of a change that replaces (or updates) a resource: the most decisive of its
        forcing paths' causes. None for a change with nothing to explain (a no-op)."""
        found = self._change_cause.get(id(rc))
        if found is not None:
            return found
        if id(rc) in self._stack or len(self._stack) > MAX_UPSTREAM:
            return Cause(kind=CauseKind.not_proven, change=rc, evidence="a chain of replacements too long to follow")
        self._stack.append(id(rc))
        try:
            cause = self._explain(rc)
        finally:
            self._stack.pop()
        if cause is not None:
            self._change_cause[id(rc)] = cause
        return cause

    def _explain(self, rc: ResourceChange) -> Cause | None:
        reason = rc.action_reason
        if reason == "replace_because_tainted":
            return Cause(kind=CauseKind.taint, change=rc, evidence="it is tainted")
        if reason == "replace_by_request":
            return Cause(kind=CauseKind.requested, change=rc, evidence="-replace asked for it")
        if reason == "replace_by_triggers":
            return self._triggered(rc)
        paths = self.forcing_paths(rc)
        if not paths:
            if "create" in rc.actions and "delete" not in rc.actions:
                return Cause(kind=CauseKind.code_change, change=rc, evidence="a new resource in the code")
            if is_replace(rc.actions):
                return Cause(kind=CauseKind.not_proven, change=rc,
                             evidence="the plan does not say which attribute forces the replacement")
            return None
        causes = [self.explain_path(rc, p) for p in paths]
        best = min(causes, key=lambda c: rank(c.kind))
        return replace(best, paths=tuple(tuple(p) for p in paths))

    def forcing_paths(self, rc: ResourceChange) -> list[tuple[str | int, ...]]:
        """replace_paths; for plans before 0.15.3 and for updates, the configured attributes whose
        known values differ first, then those that become unknown."""
        change = rc.change
        if change.replace_paths:
            return [tuple(p) for p in change.replace_paths if isinstance(p, list) and p]
        if rc.actions == ("no-op",) or rc.mode != "managed":
            return []
        return self.changed_attributes(rc)

    def changed_attributes(self, rc: ResourceChange) -> list[tuple[str | int, ...]]:
        before = self.index.part(rc, "before")
        after = self.index.part(rc, "after")
        unknown = self.index.part(rc, "after_unknown")
        if not isinstance(before, dict):
            return []
        addr = self.index.address(rc.full_address)
        cfg = self.graph.resource(addr.module_names, addr.local) if addr is not None else None
        configured = set(self.graph.exprs(cfg)) if cfg is not None else None
        after = after if isinstance(after, dict) else {}
        unknown = unknown if isinstance(unknown, dict) else {}
        differ, unknowns = [], []
        for key in sorted(set(before) | set(after)):
            if key in ("id", "arn", "tags_all") or before.get(key) is None:
                continue
            if configured is not None and key not in configured:
                continue
            if unknown.get(key) is True:
                unknowns.append((key,))
            elif key in after and before.get(key) != after.get(key):
                differ.extend(_block_leaves(key, before.get(key), after.get(key), unknown.get(key)))
        return differ + unknowns

    def explain_path(self, rc: ResourceChange, path: tuple[str | int, ...]) -> Cause:
        memo = (id(rc), tuple(path))
        found = self._explained.get(memo)
        if found is None:
            found = self._explained[memo] = self._explain_path(rc, tuple(path))
        return found

    def _explain_path(self, rc: ResourceChange, path: tuple[str | int, ...]) -> Cause:
        chains = self.chains(rc, path)
        old = self.index.at(rc, "before", path)
        new, known = self.new_value(rc, path)
        base = Cause(kind=CauseKind.not_proven, change=rc, path=path)
        if not chains:
            return replace(base, evidence="the attribute's configuration could not be read")
        deferred, volatile, drift, upstream, code, unresolved, unset = [], [], [], [], [], [], []
        chains = [ch for ch in chains if not ch.dead] or chains
        for ch in chains:
            r = ch.root
            if r.kind == "data_source" and not r.pure:
                if any(d.deferred for d in ch.data):
                    deferred.append(ch)
                elif ch.data or data_class(_dtype(r)) is not DataClass.pure:
                    drift.append(ch)
            elif r.kind == "function":
                volatile.append(ch)
            elif r.kind == "resource":
                moving = [u for u in ch.upstream if u.actions != ("no-op",) or self.drifted(u.full_address, r.attr)]
                if moving:
                    upstream.append(ch)
                else:  # a resource this plan leaves alone: referring to it is the code's choice
                    code.append(ch)
            elif r.kind in ("literal", "variable", "meta") or (r.kind == "data_source" and r.pure):
                code.append(ch)
            elif r.kind == "unset":
                unset.append(ch)
            else:
                unresolved.append(ch)
        others = len(chains) - 1
        if deferred and not known:
            ch = deferred[0]
            data = next(d for d in ch.data if d.deferred)
            return replace(base, kind=CauseKind.deferred_read, chain=ch.hops, data=data, others=others,
                           evidence=f"{data.address} is read only during apply, so the value is unknown at plan time")
        if volatile:
            ch = volatile[0]
            return replace(base, kind=CauseKind.volatile, chain=ch.hops, others=others,
                           evidence=f"{ch.root.ref} returns a new value on every run")
        moved = [ch for ch in drift if ch.matched]
        still = [ch for ch in drift if not ch.matched and not self._unchanged(ch, old, new, known)]
        code_match = [ch for ch in code if ch.root.has_value and known and ch.root.value == new and new != old]
        if moved:
            return self._drift_cause(base, moved[0], others, matched=True)
        if code_match:
            return self._code_cause(base, code_match[0], code, others)
        if still:
            return self._drift_cause(base, still[0], others, matched=False)
        inner_causes = []
        for ch in upstream:
            for up in ch.upstream:
                if up.actions == ("no-op",) or up is rc:
                    continue
                inner = self._upstream_cause(up, ch.root)
                if inner is not None:
                    inner_causes.append((ch, up, inner))
        if inner_causes:
            ch, up, inner = min(inner_causes, key=lambda t: rank(t[2].kind))
            kind = inner.kind if not inner.asked else CauseKind.code_change
            what = path_text(ch.root.attr) if ch.root.attr else "value"
            how = ("is replaced by this plan" if is_replace(up.actions) else
                   "is created by this plan" if "create" in up.actions else "changes in this plan")
            noted = replace(ch.root, note=f"{up.full_address} {how}: its new {what} is known only after apply"
                            if not known else f"{up.full_address} {how}")
            return replace(base, kind=kind, chain=ch.hops[:-1] + (noted,) + inner.chain, data=inner.data, inner=inner,
                           through=(up.full_address, *inner.through), others=others,
                           matched_by_value=inner.matched_by_value,
                           evidence=f"{up.full_address} changes in this plan ({', '.join(up.actions)}): "
                                    + inner.evidence)
        if unresolved:
            matched = self._match_by_value(rc, path, new, known, unresolved[0])
            if matched is not None:
                return matched
            return replace(base, chain=unresolved[0].hops, others=others,
                           evidence="the chain stops at " + unresolved[0].root.ref
                                    + (f" ({unresolved[0].root.note})" if unresolved[0].root.note else ""))
        if code:
            return self._code_cause(base, code[0], code, others)
        if unset:
            if known and new in (None, "", [], {}):
                return replace(base, kind=CauseKind.code_change, chain=unset[0].hops, others=others,
                               evidence="the attribute is no longer set in the code")
            return replace(base, chain=unset[0].hops, others=others,
                           evidence="the attribute is not set in the code, and the plan does not show what changes it")
        if upstream:
            return replace(base, chain=upstream[0].hops, others=others,
                           evidence=f"it comes from {upstream[0].root.ref}, which this plan does not change")
        return base

    @staticmethod
    def _unchanged(ch: Chain, old: Any, new: Any, known: bool) -> bool:
        """A data root whose value shows in both the old and the new text did not move."""
        if not known or not isinstance(old, str) or not isinstance(new, str):
            return False
        for d in ch.data:
            value = get_path(d.values, ch.root.attr) if ch.root.attr else None
            if isinstance(value, str) and len(value) >= 3 and value in old and value in new:
                return True
        return False

    def _drift_cause(self, base: Cause, ch: Chain, others: int, matched: bool) -> Cause:
        root = ch.root
        dtype = _dtype(root)
        data = ch.data[0] if ch.data else None
        cls = data_class(dtype)
        volatile = volatile_data(dtype, root.attr)
        if volatile is not None:
            return replace(base, kind=CauseKind.volatile, chain=ch.hops, data=data, others=others,
                           matched_by_value=False, evidence=f"{data.address if data is not None else root.ref} "
                                                            f"{volatile}")
        if cls is DataClass.identity:
            kind = CauseKind.identity_change
        elif dtype == "aws_ami" and (not root.attr or root.attr[0] in IMAGE_ATTRS) and self.most_recent(root):
            kind = CauseKind.image_drift
        else:
            kind = CauseKind.world_drift
        what = data.address if data is not None else root.ref
        if matched:
            evidence = f"{what} now returns the new value (read at plan time)"
        else:
            evidence = f"{what} is read again at every plan and is the only input here that changes without the code"
        return replace(base, kind=kind, chain=ch.hops, data=data, others=others, matched_by_value=False,
                       evidence=evidence)

    def _code_cause(self, base: Cause, ch: Chain, code: list[Chain], others: int) -> Cause:
        root = ch.root
        if root.kind == "variable" and not root.names:
            return replace(base, kind=CauseKind.variable_change, chain=ch.hops, others=others,
                           evidence=f"{root.ref} is set to the new value")
        if any(c.root.kind == "variable" and not c.root.names for c in code) and root.kind != "literal":
            ch = next(c for c in code if c.root.kind == "variable" and not c.root.names)
            return replace(base, kind=CauseKind.variable_change, chain=ch.hops, others=others,
                           evidence=f"computed from {ch.root.ref} and the code")
        return replace(base, kind=CauseKind.code_change, chain=ch.hops, others=others,
                       evidence="the new value is written in the code" if root.has_value
                       else "the new value is computed from the code alone")

    def _match_by_value(self, rc: ResourceChange, path: tuple, new: Any, known: bool, ch: Chain) -> Cause | None:
        """A chain that stops (a local without sources) may still end at a data source: one whose
        value read at plan time equals the new value."""
        if not known or not isinstance(new, str) or not new:
            return None
        for address in self.index.data_with_value(new):
            inst = self.index.data[address]
            dtype = inst.addr.type
            if data_class(dtype) is DataClass.pure:
                continue
            attr = next((k for k, v in inst.values.items() if v == new or (isinstance(v, list) and new in v)), None)
            names = inst.addr.module_names
            local = inst.addr.local
            cfg = self.graph.resource(names, local)
            where = self.graph.where(names, "data", inst.addr.type, inst.addr.name)
            hop = Hop(kind="data_source", ref=local, names=names, target=local, attr=(attr,) if attr else (),
                      details=tuple(self.data_details(self.graph.exprs(cfg) if cfg is not None else {})),
                      where=where, line=where.line if where else None,
                      note=f"matched by value: the new {path_text(path)} is what this data source read")
            cause = self._drift_cause(Cause(kind=CauseKind.not_proven, change=rc, path=path),
                                      Chain(hops=ch.hops + (hop,), data=[inst], matched=True), 0, matched=True)
            return replace(cause, matched_by_value=True)
        return None

    def _upstream_cause(self, up: ResourceChange, root: Hop) -> Cause | None:
        """Why an upstream resource's change reaches this one."""
        if is_replace(up.actions) or up.actions == ("delete", "create"):
            return self.explain(up)
        if "create" in up.actions:
            if up.full_address in self.index.drift:
                return Cause(kind=CauseKind.not_proven, change=up,
                             evidence=f"{up.full_address} vanished on refresh and is created again")
            return Cause(kind=CauseKind.code_change, change=up, evidence=f"{up.full_address} is new in the code")
        if "update" in up.actions:
            attrs = [tuple(root.attr[:1])] if root.attr and root.attr[0] in self._configured(up) else \
                self.changed_attributes(up)
            causes = [self.explain_path(up, a) for a in attrs if a]
            if not causes:
                return Cause(kind=CauseKind.not_proven, change=up,
                             evidence=f"{up.full_address} is updated, and the plan does not say what changes")
            return min(causes, key=lambda c: rank(c.kind))
        return None

    def _configured(self, rc: ResourceChange) -> set[str]:
        addr = self.index.address(rc.full_address)
        cfg = self.graph.resource(addr.module_names, addr.local) if addr is not None else None
        return set(self.graph.exprs(cfg)) if cfg is not None else set()

    def _triggered(self, rc: ResourceChange) -> Cause:
        """replace_triggered_by: which trigger fired, and why it changed."""
        addr = self.index.address(rc.full_address)
        base = Cause(kind=CauseKind.not_proven, change=rc)
        if addr is None:
            return replace(base, evidence="not a resource address")
        parts = addr.local.split(".")
        has_src, lifecycle, where = self.source_value(addr.module_names, "resource", tuple(parts[:2]), ("lifecycle",))
        items = []
        if has_src and isinstance(lifecycle, list):
            for block in lifecycle:
                if isinstance(block, dict) and isinstance(block.get("replace_triggered_by"), list):
                    items.extend(block["replace_triggered_by"])
        if not items:
            return replace(base, evidence="a `replace_triggered_by` reference changed; run with -C DIR to see which"
                           if not self.graph.sources.available else
                           "a `replace_triggered_by` reference changed, and the code does not show which")
        line = self.graph.sources.attr_line(where, ["lifecycle", "replace_triggered_by"]) if where else None
        fired: list[tuple[Hop, ResourceChange, Cause]] = []
        scope: Scope = ("resource", addr.module_names, addr.local)
        for item in items:
            for ref in scan_value(item).refs:
                if ref.head in ("var", "local", "each", "count", "path", "terraform", "self", "module", "data"):
                    continue
                hop = Hop(kind="trigger", ref=ref.text, names=addr.module_names, where=where, line=line,
                          expression=f"replace_triggered_by = [{ref.text}]", target=f"{ref.steps[0]}.{ref.steps[1]}",
                          attr=ref.attr_path(2), index=ref.index_after(2), scope=scope)
                for up in self._filter(addr, (hop,), hop, self.index.instances(addr.module_names, hop.target or "")):
                    if up.actions == ("no-op",):
                        continue
                    inner = self._upstream_cause(up, replace(hop, attr=hop.attr))
                    if inner is not None:
                        fired.append((hop, up, inner))
        if not fired:
            return replace(base, evidence="a `replace_triggered_by` reference changed, and none of those in the code "
                                          "changes in this plan")
        hop, up, inner = min(fired, key=lambda t: rank(t[2].kind))
        kind = inner.kind if not inner.asked else CauseKind.trigger
        acts = ", ".join(up.actions)
        hop = replace(hop, note=f"{acts} in this plan" if up.full_address == hop.ref else
                      f"{up.full_address}: {acts} in this plan")
        return replace(base, kind=kind, chain=(hop, *inner.chain), data=inner.data, inner=inner,
                       through=(up.full_address, *inner.through), matched_by_value=inner.matched_by_value,
                       evidence=f"its replace_triggered_by names {hop.ref}, which changes in this plan: "
                                + inner.evidence)

    def drifted(self, address: str, attr: tuple[str | int, ...]) -> bool:
        """Whether `resource_drift` shows `attr` of a resource changed outside Terraform (harmless
        noise such as `tags: null -> {}` does not count)."""
        rc = self.index.drift.get(address)
        if rc is None:
            return False
        before, after = self.index.part(rc, "before"), self.index.part(rc, "after")
        if "delete" in rc.actions:
            return True
        if attr:
            return _meaningful(get_path(before, attr), get_path(after, attr))
        if not isinstance(before, dict) or not isinstance(after, dict):
            return before != after
        return any(_meaningful(before.get(k), after.get(k)) for k in set(before) | set(after))

    # ------------------------------------------------------------------------------------------
    def most_recent(self, root: Hop) -> bool:
        """`most_recent` of a data source, resolved through variables and constant locals."""
        cfg = self.graph.resource(root.names, root.target or "")
        if cfg is None:
            return False
        expr = self.graph.exprs(cfg).get("most_recent")
        if not isinstance(expr, dict):
            return False
        if "constant_value" in expr:
            return expr["constant_value"] is True
        parts = root.target.split(".") if root.target else []
        has_src, src, _ = self.source_value(root.names, "data", tuple(parts[1:3]), ("most_recent",))
        paths = self._expression(root.names, expr, has_src, src, None)
        values = [p[-1].value for p in paths if p[-1].has_value]
        return bool(values) and len(values) == len(paths) and all(v is True for v in values)


def _dtype(hop: Hop) -> str:
    parts = (hop.target or hop.ref).split(".")
    return parts[1] if parts[0] == "data" and len(parts) > 1 else parts[0]


def _holds(values: dict[str, Any], attr: tuple[str | int, ...], new: Any) -> bool:
    """Whether a data source's values hold `new` at `attr` (or anywhere at the top when no attr)."""
    if attr:
        value = get_path(values, attr)
        if value == new:
            return True
        if isinstance(value, list) and new in value:
            return True
        return isinstance(value, str) and isinstance(new, str) and len(value) >= 6 and value in new
    return any(v == new or (isinstance(v, list) and new in v) for v in values.values())


def _block_leaves(key: str, before: Any, after: Any, unknown: Any) -> list[tuple[str | int, ...]]:
    """A changed attribute's path; for a nested block (a list of objects) the paths of the leaves
    that change in it (`launch_template[0].version`), which the configuration has expressions for."""
    if not (isinstance(before, list) and isinstance(after, list) and before and after
            and all(isinstance(b, dict) for b in before + after)):
        return [(key,)]
    leaves = leaf_changes(before, after, unknown, (key,))
    return leaves or [(key,)]


def _meaningful(a: Any, b: Any) -> bool:
    """Values differ in more than empty-versus-null (`tags: null -> {}`, `[] -> null`)."""
    empty: tuple[Any, ...] = (None, "", [], {})
    if a in empty and b in empty:
        return False
    return a != b


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False)
