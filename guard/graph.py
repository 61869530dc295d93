"""The reference graph: from a forcing attribute back to where its value comes from.

It walks the plan's `configuration` (module-relative expressions with their `references`),
module calls and their inputs, module outputs, root variables (the plan's `variables`) and,
through the `.tf` sources, local values, which the plan JSON does not contain.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .address import Address, parse_address
from .findings import ChainLink, Location
from .model import ConfigModule, ConfigResource, Plan, raw_value
from .sources import SourceTree, Where, display_path, expression_text, references_in

MAX_DEPTH = 40
_META = {"each", "count", "path", "terraform", "self"}
# Arguments of a data source shown first when they are set.
_DECISIVE_FIRST = ("most_recent", "owners", "name", "name_regex", "filter", "state")


_KEY = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]"]*)\]')


def strip_keys(ref: str) -> str:
    """`data.x.y[0].id` -> `data.x.y.id`, `module.m["a.b"].out` -> `module.m.out` (keys may hold dots)."""
    return _KEY.sub("", ref)


def module_label(names: tuple[str, ...]) -> str:
    return ".".join(f"module.{n}" for n in names)


def module_names(label: str) -> tuple[str, ...]:
    """`module.a.module.b` -> ("a", "b")."""
    parts = label.split(".") if label else []
    return tuple(parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i] == "module")


def most_specific(refs: list[str]) -> list[str]:
    """Drop references that only repeat a longer one (`data.x.y` beside `data.x.y.id`)."""
    out = []
    for ref in refs:
        if not isinstance(ref, str):
            continue
        if any(isinstance(o, str) and (o.startswith(ref + ".") or o.startswith(ref + "[")) for o in refs):
            continue
        if ref not in out:
            out.append(ref)
    return out


def expression_at(exprs: dict[str, Any], path: list[str | int]) -> Any:
    """The configuration expression for an attribute path (the deepest one that exists)."""
    node: Any = exprs
    best = None
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(node, list) and len(node) == 1 and isinstance(step, str):
            node = node[0].get(step) if isinstance(node[0], dict) else None
        else:
            break
        if isinstance(node, dict) and ("references" in node or "constant_value" in node):
            best = node
            break
    return best


def constant_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def expr_summary(expr: Any) -> str | None:
    if not isinstance(expr, dict):
        return None
    if "constant_value" in expr:
        return constant_text(expr["constant_value"])
    refs = most_specific(expr.get("references") or [])
    return ", ".join(refs) if refs else None


class Graph:
    def __init__(self, plan: Plan, sources: SourceTree | None = None, cwd: Path | None = None):
        self.plan = plan
        self.sources = sources or SourceTree(None)
        self.cwd = cwd or Path.cwd()
        conf = plan.configuration
        self.root = conf.root_module if conf is not None else ConfigModule()
        self._resources: dict[tuple[str, ...], dict[str, ConfigResource]] = {}

    # -- configuration lookups ------------------------------------------------------------
    def config_module(self, names: tuple[str, ...]) -> ConfigModule | None:
        mod = self.root
        for name in names:
            call = mod.module_calls.get(name) if mod.module_calls else None
            if call is None:
                return None
            mod = call.module
        return mod

    def config_resource(self, names: tuple[str, ...], local: str) -> ConfigResource | None:
        index = self._resources.get(names)
        if index is None:
            mod = self.config_module(names)
            index = {}
            for res in mod.resources if mod else []:
                index.setdefault(res.address or _local_of(res), res)
            self._resources[names] = index
        return index.get(local)

    def module_dir(self, names: tuple[str, ...]) -> Path | None:
        if not self.sources.available:
            return None
        srcs: list[str | None] = []
        mod = self.root
        for name in names:
            call = mod.module_calls.get(name) if mod.module_calls else None
            if call is None:
                return None
            srcs.append(call.source)
            mod = call.module
        return self.sources.module_dir(names, srcs)

    def loc(self, where: Where | None, line: int | None = None) -> Location | None:
        if where is None:
            return None
        return Location(file=display_path(where.file, self.cwd), line=line or where.line)

    def block_where(self, names: tuple[str, ...], kind: str, *labels: str) -> Where | None:
        found = self.sources.block(self.module_dir(names), kind, *labels)
        return found[0] if found else None

    def resource_block(self, address: Address) -> dict | None:
        """The parsed `.tf` block of a resource (python-hcl2's dict), when sources are given."""
        kind = "resource" if address.mode == "managed" else "data"
        found = self.sources.block(self.module_dir(address.module_names), kind, address.type, address.name)
        return found[1] if found else None

    def call_depends_on(self, names: tuple[str, ...]) -> list[tuple[str, list[str]]]:
        """`depends_on` of each module call on the way to module `names`, outermost first:
        [("module.app", ["aws_iam_role.x"]), ...] (references are relative to the caller)."""
        out = []
        mod = self.root
        for depth, name in enumerate(names):
            call = mod.module_calls.get(name) if mod.module_calls else None
            if call is None:
                break
            if call.depends_on:
                out.append((module_label(names[: depth + 1]), list(call.depends_on)))
            mod = call.module
        return out

    def resource_where(self, address: Address) -> Where | None:
        kind = "resource" if address.mode == "managed" else "data"
        return self.block_where(address.module_names, kind, address.type, address.name)

    def block_location(self, address: Address | None) -> Location | None:
        """File and line of a resource's block (None without sources or address)."""
        return self.loc(self.resource_where(address)) if address is not None else None

    def attribute_location(self, address: Address, path: list[str | int]) -> tuple[Location | None, str | None]:
        """File and line of an attribute (or of its block when the attribute is not written)."""
        where = self.resource_where(address)
        if where is None:
            return None, None
        line = self.sources.attr_line(where, [p for p in path if isinstance(p, str)])
        text = self.sources.line_text(where.file, line) if line else None
        return self.loc(where, line), text

    # -- tracing -----------------------------------------------------------------------
    def trace(self, address: str, path: list[str | int]) -> list[list[ChainLink]]:
        """Every chain from `address`'s attribute `path` to a root (data source, variable, ...)."""
        addr = parse_address(address)
        if addr is None:
            return [[ChainLink(ref=address, kind="unresolved", note="not a resource address")]]
        names = addr.module_names
        path_text = ".".join(str(p) for p in path)
        res = self.config_resource(names, addr.local)
        location, text = self.attribute_location(addr, path)
        first = ChainLink(ref=f"{addr.local}.{path_text}" if path_text else addr.local, kind="attribute",
                          module=module_label(names), location=location, expression=text)
        if res is None:
            first.note = "not found in the plan's configuration"
            return [[first]]
        expr = expression_at(res.exprs, path)
        if expr is None:
            first.note = "not set in the configuration: the provider computes it or a default applies"
            return [[first]]
        if first.expression is None:
            first.expression = expr_summary(expr)
        return [[first, *rest] for rest in self._follow_expr(expr, names, set(), 0)]

    def _follow_expr(self, expr: Any, names: tuple[str, ...], seen: set, depth: int) -> list[list[ChainLink]]:
        if not isinstance(expr, dict) or depth > MAX_DEPTH:
            return [[]]
        refs = most_specific(expr.get("references") or [])
        if not refs:
            return [[]]
        chains: list[list[ChainLink]] = []
        for ref in refs:
            chains.extend(self._follow_ref(ref, names, seen, depth))
        return chains or [[]]

    def _follow_refs(self, refs: list[str], names, seen, depth) -> list[list[ChainLink]]:
        chains: list[list[ChainLink]] = []
        for ref in most_specific(refs):
            chains.extend(self._follow_ref(ref, names, seen, depth))
        return chains or [[]]

    def _follow_ref(self, ref: str, names: tuple[str, ...], seen: set, depth: int) -> list[list[ChainLink]]:
        key = (names, ref)
        label = module_label(names)
        if key in seen or depth > MAX_DEPTH:
            return [[ChainLink(ref=ref, kind="unresolved", module=label, note="reference cycle or chain too deep")]]
        seen = seen | {key}
        parts = strip_keys(ref).split(".")
        head = parts[0]
        if head == "var" and len(parts) >= 2:
            return self._follow_var(parts[1], names, seen, depth)
        if head == "local" and len(parts) >= 2:
            return self._follow_local(parts[1], names, seen, depth)
        if head == "data" and len(parts) >= 3:
            return [[self.data_link(names, parts[1], parts[2])]]
        if head == "module" and len(parts) >= 2:
            return self._follow_output(parts[1], parts[2] if len(parts) > 2 else None, names, seen, depth)
        if head in _META:
            return [[ChainLink(ref=ref, kind="meta", module=label)]]
        if len(parts) >= 2:
            where = self.block_where(names, "resource", parts[0], parts[1])
            return [[ChainLink(ref=ref, kind="resource", module=label, location=self.loc(where))]]
        return [[ChainLink(ref=ref, kind="unresolved", module=label)]]

    def _follow_var(self, name: str, names, seen, depth) -> list[list[ChainLink]]:
        label = module_label(names)
        where = self.block_where(names, "variable", name)
        link = ChainLink(ref=f"var.{name}", kind="variable", module=label, location=self.loc(where))
        if not names:
            mod_var = self.root.variables.get(name) if self.root.variables else None
            sensitive = bool(mod_var and mod_var.sensitive)
            var = (self.plan.variables or {}).get(name)
            if var is not None:
                value = raw_value(var.value)
                link.expression = "(sensitive)" if sensitive else constant_text(value)
            link.note = "a root module variable: set by -var, a .tfvars file, TF_VAR_ or its default"
            return [[link]]
        parent, call_name = names[:-1], names[-1]
        parent_mod = self.config_module(parent)
        call = parent_mod.module_calls.get(call_name) if parent_mod and parent_mod.module_calls else None
        input_expr = call.exprs.get(name) if call else None
        if input_expr is None:
            link.note = f"not set by the call of module.{call_name}: its default applies"
            return [[link]]
        call_where = self.block_where(parent, "module", call_name)
        line = self.sources.attr_line(call_where, [name]) if call_where else None
        text = self.sources.line_text(call_where.file, line) if call_where and line else None
        call_link = ChainLink(ref=f"module.{call_name}.{name}", kind="module_input", module=module_label(parent),
                              expression=text or expr_summary(input_expr), location=self.loc(call_where, line))
        return [[link, call_link, *rest] for rest in self._follow_expr(input_expr, parent, seen, depth + 1)]

    def _follow_local(self, name: str, names, seen, depth) -> list[list[ChainLink]]:
        label = module_label(names)
        link = ChainLink(ref=f"local.{name}", kind="local", module=label)
        if not self.sources.available:
            link.note = "locals are not in the plan JSON: run with -C DIR (the root module's folder) to follow it"
            return [[link]]
        found = self.sources.local(self.module_dir(names), name)
        if found is None:
            link.note = "not found in the .tf files of this module"
            return [[link]]
        where, value = found
        link.location = self.loc(where)
        link.expression = expression_text(value)
        refs = references_in(json.dumps(value))
        if not refs:
            return [[link]]
        return [[link, *rest] for rest in self._follow_refs(refs, names, seen, depth + 1)]

    def _follow_output(self, call: str, output: str | None, names, seen, depth) -> list[list[ChainLink]]:
        label = module_label(names)
        child = names + (call,)
        mod = self.config_module(child)
        out = mod.outputs.get(output) if mod and output and mod.outputs else None
        ref = f"module.{call}.{output}" if output else f"module.{call}"
        if out is None:
            return [[ChainLink(ref=ref, kind="output", module=label, note="module output not found in configuration")]]
        where = self.block_where(child, "output", output)
        expr = raw_value(out.expression)
        line = self.sources.attr_line(where, ["value"]) if where else None
        link = ChainLink(ref=ref, kind="output", module=label, expression=expr_summary(expr),
                         location=self.loc(where, line))
        return [[link, *rest] for rest in self._follow_expr(expr, child, seen, depth + 1)]

    def data_link(self, names: tuple[str, ...], dtype: str, dname: str) -> ChainLink:
        local = f"data.{dtype}.{dname}"
        cfg = self.config_resource(names, local)
        where = self.block_where(names, "data", dtype, dname)
        details = data_details(cfg) if cfg else []
        if cfg is not None and cfg.depends_on:
            details.append("depends_on = [" + ", ".join(cfg.depends_on) + "]")
        return ChainLink(ref=local, kind="data_source", module=module_label(names), details=details,
                         location=self.loc(where))


def _local_of(res: ConfigResource) -> str:
    base = f"{res.type}.{res.name}"
    return base if res.mode == "managed" else f"data.{base}"


def data_details(cfg: ConfigResource) -> list[str]:
    """The data source's arguments as `key = value` lines, decisive ones first."""
    exprs = cfg.exprs
    keys = [k for k in _DECISIVE_FIRST if k in exprs] + sorted(k for k in exprs if k not in _DECISIVE_FIRST)
    out = []
    for key in keys:
        value = exprs[key]
        if isinstance(value, list):
            for block in value:
                if isinstance(block, dict):
                    inner = ", ".join(f"{k} = {expr_summary(v)}" for k, v in sorted(block.items()) if expr_summary(v))
                    out.append(f"{key} {{ {inner} }}")
        else:
            text = expr_summary(value)
            if text is not None:
                out.append(f"{key} = {text}")
    return out


def data_source_is_most_recent(cfg: ConfigResource | None) -> bool:
    if cfg is None:
        return False
    expr = cfg.exprs.get("most_recent")
    return isinstance(expr, dict) and expr.get("constant_value") is True
