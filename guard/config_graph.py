"""The plan's `configuration`, indexed once, with the `.tf` sources beside it.

Module-relative lookups (a module path is a tuple of call names, without instance keys),
expression trees decoded once per block, file and line of blocks and attributes, who owns a
module's files (the user, or a download cache), and which expressions of a module refer to a
name (for "does this line serve only the replaced instances?").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .findings import Location
from .model import ConfigModule, ConfigResource, ModuleCall, Plan, raw_value
from .sources import SourceTree, Where, display_path

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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_local_source(source: str | None) -> bool:
    return bool(source) and (source.startswith("./") or source.startswith("../"))  # type: ignore[union-attr]


def expression_at(exprs: dict[str, Any], path: list[str | int] | tuple) -> Any:
    """The configuration expression for an attribute path (the deepest one that exists)."""
    node: Any = exprs
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(node, list) and len(node) == 1 and isinstance(step, str):
            node = node[0].get(step) if isinstance(node[0], dict) else None
        else:
            return None
        if isinstance(node, dict) and ("references" in node or "constant_value" in node):
            return node
    if isinstance(node, dict) and not node:
        return node  # an expression with neither references nor a constant: a function call
    return None


def references(expr: Any) -> list[str]:
    """The `references` of one configuration expression (only strings; a forged plan may hold anything)."""
    if not isinstance(expr, dict):
        return []
    refs = expr.get("references")
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


def most_specific(refs: list[str]) -> list[str]:
    """Drop references that only repeat a longer one (`data.x.y` beside `data.x.y.id`)."""
    refs = list(dict.fromkeys(refs))
    prefixes: set[str] = set()
    for ref in refs:
        parts = ref.split(".")
        for i in range(1, len(parts)):
            prefixes.add(".".join(parts[:i]))
        # `aws_instance.x[0]` beside `aws_instance.x[0].id`, and `aws_instance.x` beside both
        cut = ref.split("[", 1)[0]
        if cut != ref:
            prefixes.add(cut)
    return [r for r in refs if r not in prefixes]


def all_references(expr: Any) -> list[str]:
    """Every reference inside an expression tree (nested blocks included)."""
    out: list[str] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            out.extend(references(node))
            stack.extend(v for k, v in node.items() if k not in ("references", "constant_value"))
        elif isinstance(node, list):
            stack.extend(node)
    return out


class ConfigGraph:
    def __init__(self, plan: Plan, sources: SourceTree | None = None, cwd: Path | None = None):
        self.plan = plan
        self.sources = sources or SourceTree(None)
        self.cwd = cwd or Path.cwd()
        conf = plan.configuration
        self.root = conf.root_module if conf is not None else ConfigModule()
        self._modules: dict[tuple[str, ...], ConfigModule | None] = {(): self.root}
        self._resources: dict[tuple[str, ...], dict[str, ConfigResource]] = {}
        self._exprs: dict[int, dict[str, Any]] = {}
        self._dirs: dict[tuple[str, ...], Path | None] = {}
        self._owned: dict[tuple[str, ...], bool] = {}
        self._callers: dict[Path, int] | None = None
        self._users: dict[tuple[str, ...], dict[str, list[str]]] = {}
        self._locations: dict[tuple, Location | None] = {}
        self._locs: dict[tuple, Location] = {}

    # -- modules and blocks -------------------------------------------------------------------
    def module(self, names: tuple[str, ...]) -> ConfigModule | None:
        if names in self._modules:
            return self._modules[names]
        parent = self.module(names[:-1])
        call = (parent.module_calls.get(names[-1])
                if parent is not None and isinstance(parent.module_calls, dict) else None)
        found = call.module if call is not None else None
        self._modules[names] = found
        return found

    def call(self, names: tuple[str, ...]) -> ModuleCall | None:
        """The call that makes module `names` (in its parent)."""
        if not names:
            return None
        parent = self.module(names[:-1])
        return (parent.module_calls.get(names[-1])
                if parent is not None and isinstance(parent.module_calls, dict) else None)

    def resource(self, names: tuple[str, ...], local: str) -> ConfigResource | None:
        index = self._resources.get(names)
        if index is None:
            mod = self.module(names)
            index = {}
            for res in mod.resources if mod else []:
                index.setdefault(res.address or _local_of(res), res)
            self._resources[names] = index
        return index.get(local)

    def exprs(self, block: ConfigResource | ModuleCall) -> dict[str, Any]:
        """A resource's or module call's `expressions`, decoded once."""
        found = self._exprs.get(id(block))
        if found is None:
            found = self._exprs[id(block)] = _dict(raw_value(block.expressions))
        return found

    def raw(self, value: Any) -> Any:
        return raw_value(value)

    # -- files --------------------------------------------------------------------------------
    def module_dir(self, names: tuple[str, ...]) -> Path | None:
        if names in self._dirs:
            return self._dirs[names]
        found: Path | None = None
        if self.sources.available:
            srcs: list[str | None] = []
            ok = True
            for depth in range(1, len(names) + 1):
                call = self.call(names[:depth])
                if call is None:
                    ok = False
                    break
                srcs.append(call.source)
            found = self.sources.module_dir(names, srcs) if ok else None
        self._dirs[names] = found
        return found

    def owned(self, names: tuple[str, ...]) -> bool:
        """True when the user owns the module's files: the root module, and modules called with a
        local path (`./`, `../`) from modules the user owns, inside the repository (the git top
        level of the root module folder; `../modules/app` beside it counts). Registry, git and
        archive modules live in `.terraform/modules`, a download cache the next `terraform init`
        overwrites."""
        if names in self._owned:
            return self._owned[names]
        if not names:
            result = True
        else:
            call = self.call(names)
            result = call is not None and is_local_source(call.source) and self.owned(names[:-1])
            folder = self.module_dir(names) if result else None
            top = self.sources.top  # the repository: a local module may sit beside the root module
            if result and folder is not None and top is not None:
                try:
                    rel = folder.resolve().relative_to(top)
                    result = ".terraform" not in rel.parts
                except ValueError:
                    result = False
        self._owned[names] = result
        return result

    def callers(self, names: tuple[str, ...]) -> int:
        """How many module calls in the configuration use the same source folder as module `names`
        (a local module used once can be edited for its one caller)."""
        folder = self.module_dir(names)
        if folder is None:
            return 1
        if self._callers is None:  # every module call's folder, counted once per plan
            self._callers = {}
            stack: list[tuple[str, ...]] = [()]
            while stack:
                cur = stack.pop()
                mod = self.module(cur)
                for name in (mod.module_calls if mod is not None and isinstance(mod.module_calls, dict) else {}):
                    child = cur + (name,)
                    found = self.module_dir(child)
                    if found is not None:
                        self._callers[found] = self._callers.get(found, 0) + 1
                    stack.append(child)
        return self._callers.get(folder, 0)

    def block(self, names: tuple[str, ...], kind: str, *labels: str) -> tuple[Where, dict] | None:
        return self.sources.block(self.module_dir(names), kind, *labels)

    def where(self, names: tuple[str, ...], kind: str, *labels: str) -> Where | None:
        found = self.block(names, kind, *labels)
        return found[0] if found else None

    def loc(self, where: Where | None, line: int | None = None) -> Location | None:
        if where is None:
            return None
        key = (where.file, line or where.line)
        found = self._locs.get(key)
        if found is None:  # one (frozen) Location per file and line, shared by every finding
            found = self._locs[key] = Location(file=display_path(where.file, self.cwd), line=key[1])
        return found

    def block_location(self, names: tuple[str, ...], kind: str, *labels: str) -> Location | None:
        key = ("block", names, kind, labels)
        if key not in self._locations:
            self._locations[key] = self.loc(self.where(names, kind, *labels))
        return self._locations[key]

    def resource_location(self, names: tuple[str, ...], local: str) -> Location | None:
        kind, labels = _kind_labels(local)
        return self.block_location(names, kind, *labels)

    def attribute_line(self, where: Where | None, path: list[str | int] | tuple) -> tuple[Location | None, str | None]:
        """File and line of an attribute inside a block (or the block's own line), and its text."""
        if where is None:
            return None, None
        line = self.sources.attr_line(where, [p for p in path if isinstance(p, str)])
        text = self.sources.line_text(where.file, line) if line else None
        return self.loc(where, line), text

    # -- who uses a name ------------------------------------------------------------------------
    def users(self, names: tuple[str, ...], ref: str) -> list[str]:
        """What in module `names` refers to `ref` (`local.x`, `var.y`, `module.m.out`): resource
        addresses (`aws_instance.a`), `module.<call>`, `output.<name>` and `local.<name>`.
        Locals are read from the sources; without them, what the plan's configuration shows."""
        index = self._users.get(names)
        if index is None:
            index = self._users[names] = self._build_users(names)
        return index.get(ref, [])

    def _build_users(self, names: tuple[str, ...]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}

        def add(refs: list[str], user: str) -> None:
            for ref in refs:
                base = strip_keys(ref)
                parts = base.split(".")
                key = ".".join(parts[:3]) if parts[0] == "module" else ".".join(parts[:2])
                holders = out.setdefault(key, [])
                if user not in holders:
                    holders.append(user)

        mod = self.module(names)
        if mod is None:
            return out
        for res in mod.resources:
            local = res.address or _local_of(res)
            refs = all_references(self.exprs(res)) + references(raw_value(res.for_each_expression)) \
                + references(raw_value(res.count_expression))
            add(refs, local)
        for call_name, call in (mod.module_calls.items() if isinstance(mod.module_calls, dict) else []):
            refs = all_references(self.exprs(call)) + references(raw_value(call.for_each_expression)) \
                + references(raw_value(call.count_expression))
            add(refs, f"module.{call_name}")
        for out_name, output in (mod.outputs.items() if isinstance(mod.outputs, dict) else []):
            add(references(raw_value(output.expression)), f"output.{out_name}")
        from .hcl import scan_expression  # the locals come from the sources

        for local_name, text in self.sources.local_texts(self.module_dir(names)).items():
            add([r.text for r in scan_expression(text).refs], f"local.{local_name}")
        return out


def _local_of(res: ConfigResource) -> str:
    base = f"{res.type}.{res.name}"
    return base if res.mode == "managed" else f"data.{base}"


def _kind_labels(local: str) -> tuple[str, tuple[str, ...]]:
    parts = local.split(".")
    if parts[0] == "data" and len(parts) >= 3:
        return "data", (parts[1], parts[2])
    return "resource", (parts[0], parts[1] if len(parts) > 1 else "")
