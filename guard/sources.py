"""Read the `.tf` sources that a chain passes through.

The plan JSON has no `locals` and no file positions. This module finds which `.tf` file of a
module directory defines a block with a cheap text scan, parses only those files with
python-hcl2 (block line ranges from `with_meta`), and finds an attribute's line inside its block.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HEADER = re.compile(
    r'^[ \t]*(resource|data|module|variable|output|locals)\b[ \t]*(?:"([^"]*)")?[ \t]*(?:"([^"]*)")?[ \t]*\{',
    re.M,
)
_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_ASSIGNED = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=", re.M)
_ATTR = re.compile(r"\s*([A-Za-z_][\w-]*)\s*(?:=|\{)")
REF = re.compile(
    r"(?<![\w.\"-])(?:"
    r"(?:var|local|each|count|path|terraform|self)\.[A-Za-z_][\w-]*"
    r"|data\.[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*)?"
    r"|module\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*)?"
    r"|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*)?"
    r")"
)


def references_in(text: str) -> list[str]:
    """Terraform references in an expression's source text, in order, without duplicates."""
    seen: dict[str, None] = {}
    for m in REF.finditer(text):
        ref = re.sub(r"\[[^\]]*\]", "", m.group(0))
        seen.setdefault(ref, None)
    return list(seen)


@dataclass
class Where:
    file: Path
    line: int
    end_line: int = 0

    def short(self, root: Path | None) -> str:
        return f"{display_path(self.file, root)}:{self.line}"


def display_path(path: Path, root: Path | None) -> str:
    if path.is_absolute() and (root is None or root.is_absolute()):
        return _display_path_cached(path, root)  # independent of the current directory
    return _display_path(path, root)


@functools.lru_cache(maxsize=4096)  # resolve() stats every path component: once per file, not per link
def _display_path_cached(path: Path, root: Path | None) -> str:
    return _display_path(path, root)


def _display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


@dataclass
class _Dir:
    path: Path
    headers: dict[tuple[str, ...], Path] = field(default_factory=dict)
    locals_files: list[Path] = field(default_factory=list)
    scanned: bool = False


class SourceTree:
    """The `.tf` files of a root module and the local modules it calls."""

    def __init__(self, root: Path | None):
        self.root = root
        self._dirs: dict[Path, _Dir] = {}
        self._parsed: dict[Path, dict[str, Any]] = {}
        self._lines: dict[Path, list[str]] = {}
        self._texts: dict[Path, str] = {}
        self._assigned: dict[Path, frozenset[str]] = {}  # names written `name =` at a line start
        self._attr_index: dict[tuple[Path, int, int], dict[str, int]] = {}
        self._blocks: dict[tuple[Path, str, int], dict[tuple, tuple[int, int, dict]]] = {}
        self._modules_json: dict[str, str] | None = None
        self.errors: list[str] = []

    @property
    def available(self) -> bool:
        return self.root is not None

    # -- module directories -------------------------------------------------------------
    def module_dir(self, module_names: tuple[str, ...], sources: list[str | None]) -> Path | None:
        """Directory of a module given its call names and each call's `source`."""
        if self.root is None:
            return None
        cur = self.root
        for depth, source in enumerate(sources):
            if source and (source.startswith("./") or source.startswith("../")):
                cur = (cur / source).resolve()
                continue
            found = self._installed_module(".".join(module_names[: depth + 1]))
            if found is None:
                return None
            cur = found
        return cur

    def _installed_module(self, key: str) -> Path | None:
        if self._modules_json is None:
            self._modules_json = {}
            manifest = self.root / ".terraform" / "modules" / "modules.json"
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                for mod in data.get("Modules", []):
                    self._modules_json[mod.get("Key", "")] = mod.get("Dir", "")
            except (OSError, ValueError, AttributeError):
                pass
        rel = self._modules_json.get(key)
        return (self.root / rel).resolve() if rel else None

    # -- blocks ------------------------------------------------------------------------
    def _scan(self, directory: Path) -> _Dir:
        d = self._dirs.get(directory)
        if d is None:
            d = self._dirs[directory] = _Dir(directory)
        if d.scanned:
            return d
        d.scanned = True
        try:
            files = sorted(directory.glob("*.tf"))
        except OSError:
            files = []
        for path in files:
            text = self._text(path)
            for m in _HEADER.finditer(text):
                kind, a, b = m.group(1), m.group(2), m.group(3)
                if kind == "locals":
                    if path not in d.locals_files:
                        d.locals_files.append(path)
                    continue
                key = (kind, a or "", b or "") if kind in ("resource", "data") else (kind, a or "")
                d.headers.setdefault(key, path)
        return d

    def _text(self, path: Path) -> str:
        found = self._texts.get(path)
        if found is None:
            if path not in self._lines:
                try:
                    text = path.read_text(encoding="utf-8-sig", errors="replace")
                except OSError:
                    text = ""
                self._lines[path] = text.splitlines()
            found = self._texts[path] = "\n".join(self._lines[path])
        return found

    def _parse(self, path: Path) -> dict[str, Any]:
        if path not in self._parsed:
            import hcl2  # imported only when a chain reaches a .tf file

            try:
                self._parsed[path] = hcl2.loads(self._text(path) + "\n", with_meta=True)
            except Exception as exc:  # python-hcl2 raises lark errors of several kinds
                self.errors.append(f"{path}: could not parse ({type(exc).__name__})")
                self._parsed[path] = {}
        return self._parsed[path]

    def block(self, directory: Path | None, kind: str, *labels: str) -> tuple[Where, dict] | None:
        """Find a block (`resource "t" "n"`, `data`, `module "m"`, `variable`, `output`)."""
        if directory is None:
            return None
        d = self._scan(directory)
        key = (kind, *labels)
        path = d.headers.get(key)
        if path is None:
            return None
        # The blocks of a kind in a file, by labels, indexed once: looking each up by walking the
        # file's blocks was quadratic for N variables (or outputs, ...) in one file.
        slot = (path, kind, len(labels))
        index = self._blocks.get(slot)
        if index is None:
            index = self._blocks[slot] = _block_index(self._parse(path).get(kind, []) or [], len(labels))
        found = index.get(labels)
        if found is None:
            return None
        start, end, node = found
        return Where(path, start, end), node

    def local(self, directory: Path | None, name: str) -> tuple[Where, Any] | None:
        """A local value's expression (as python-hcl2 gives it) and where it is defined."""
        if directory is None:
            return None
        d = self._scan(directory)
        for path in d.locals_files:
            if not self._assigns(path, name):
                continue
            for block in self._parse(path).get("locals", []) or []:
                if isinstance(block, dict) and name in block:
                    start, end = block.get("__start_line__", 1), block.get("__end_line__", 0)
                    line = self.attr_line(Where(path, start, end), [name]) or start
                    return Where(path, line, line), block[name]
        return None

    def _assigns(self, path: Path, name: str) -> bool:
        """Whether a line of the file starts with `name =` (a cheap test before parsing it).

        The names are collected once per file: testing each local with its own search over the
        whole file was quadratic in a file of many locals."""
        names = self._assigned.get(path)
        if names is None:
            names = self._assigned[path] = frozenset(m.group(1) for m in _ASSIGNED.finditer(self._text(path)))
        if _IDENT.fullmatch(name):
            return name in names
        return re.search(rf"^\s*{re.escape(name)}\s*=", self._text(path), re.M) is not None

    def all_locals(self, directory: Path | None) -> dict[str, Any]:
        """Every local value of a module folder (name -> python-hcl2 value)."""
        if directory is None:
            return {}
        d = self._scan(directory)
        out: dict[str, Any] = {}
        for path in d.locals_files:
            for block in self._parse(path).get("locals", []) or []:
                if isinstance(block, dict):
                    for name, value in block.items():
                        if not name.startswith("__"):
                            out.setdefault(name, value)
        return out

    def attr_line(self, where: Where, path: list[str | int]) -> int | None:
        """Line of `attr =` (or of the nested block) inside a block's line range."""
        lines = self._lines.get(where.file)
        if lines is None:
            self._text(where.file)
            lines = self._lines.get(where.file, [])
        start, end = where.line, where.end_line or len(lines)
        found = None
        steps = [step for step in path if isinstance(step, str)]
        if steps and _IDENT.fullmatch(steps[0]):
            # The first step, from the block's first line: looked up in an index of the block's
            # lines, built once (a locals block of N entries was scanned once per local).
            key = (where.file, start, end)
            index = self._attr_index.get(key)
            if index is None:
                index = self._attr_index[key] = {}
                for no in range(start, min(end, len(lines)) + 1):
                    m = _ATTR.match(lines[no - 1])
                    if m is not None:
                        index.setdefault(m.group(1), no)
            found = index.get(steps[0])
            if found is None:
                return None
            start = found
            steps = steps[1:]
        for step in steps:
            pat = re.compile(rf"^\s*{re.escape(step)}\s*(=|\{{)")
            for no in range(start + (0 if found is None else 1), min(end, len(lines)) + 1):
                if pat.match(lines[no - 1]):
                    found = no
                    start = no
                    break
            else:
                break
        return found

    def line_text(self, file: Path, line: int) -> str:
        self._text(file)
        lines = self._lines.get(file, [])
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        return re.sub(r"^([\w-]+)\s*=\s*", r"\1 = ", text)  # `ami      = x` -> `ami = x`


def _block_index(entries: list, depth: int) -> dict[tuple, tuple[int, int, dict]]:
    """Labels -> (first line, last line, body) of the first block with those labels, for blocks as
    python-hcl2 gives them (`{"aws_instance": {"app": {..., "__start_line__": 3}}}`)."""
    out: dict[tuple, tuple[int, int, dict]] = {}
    for entry in entries:
        frontier: list[tuple[tuple, Any]] = [((), entry)]
        for _ in range(depth):
            frontier = [(labels + (k,), v) for labels, node in frontier if isinstance(node, dict)
                        for k, v in node.items()]
        for labels, node in frontier:
            if isinstance(node, dict) and "__start_line__" in node and labels not in out:
                out[labels] = (node["__start_line__"], node.get("__end_line__", 0), node)
    return out


def expression_text(value: Any) -> str:
    """Source-like text of a python-hcl2 value (strips the `${...}` of a whole expression)."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}") and value.count("${") == 1:
            return value[2:-1]
        return json.dumps(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {expression_text(v)}" for k, v in value.items() if not k.startswith("__"))
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(expression_text(v) for v in value) + "]"
    return json.dumps(value)
