"""Read the `.tf` sources that a chain passes through.

The plan JSON has no `locals` and no file positions. This module finds which file of a module
folder defines a block, and where the block starts and ends, with a linear text scan that knows
strings, heredocs and comments (`hclscan`); python-hcl2 then parses only that block's text (a
`local.x` only the attribute that defines it), with its true line numbers. Files are scanned one
at a time, the likeliest first (`variables.tf` for a variable, ...), until the block is found.

The repository may be hostile. Only regular files are read (a FIFO would block, `/dev/zero`
never ends), none larger than MAX_FILE_BYTES; nothing is read outside the repository (the git
top level of the root module folder, or that folder when it is not in a git repository): module
folders named by the plan or by `.terraform/modules/modules.json`, and links, that point
elsewhere are refused with a note in `errors`. OpenTofu's `.tofu` files are read, and hide the
`.tf` file of the same name; Terraform's JSON syntax (`.tf.json`, `.tofu.json`) is read too.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hclscan
from .errors import printable

MAX_FILE_BYTES = 10 * 1024 * 1024  # a larger .tf file is skipped, with a note
MAX_BLOCK_LINES = 4_000  # python-hcl2 parses a few thousand lines a second: a larger block is not parsed
MAX_BLOCK_BYTES = 512 * 1024

# Configuration files, longest suffix first. OpenTofu reads `x.tofu` instead of `x.tf` (and
# `x.tofu.json` instead of `x.tf.json`) when both are in one folder.
_SUFFIXES = (".tofu.json", ".tf.json", ".tofu", ".tf")
_SHADOWED_BY = {".tf": ".tofu", ".tf.json": ".tofu.json"}
# Which files to scan first for a block kind (by the file's stem).
_LIKELY = {
    "variable": ("variables", "variable", "vars", "inputs"),
    "output": ("outputs", "output"),
    "locals": ("locals", "local", "main"),
    "resource": ("main",),
    "data": ("data", "main"),
    "module": ("main", "modules"),
}
# Nested blocks of a resource that python-hcl2 gives as a list of objects.
_NESTED_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection", "dynamic", "precondition", "postcondition"})


@dataclass
class Where:
    file: Path
    line: int
    end_line: int = 0

    def short(self, root: Path | None) -> str:
        return f"{display_path(self.file, root)}:{self.line}"


def display_path(path: Path, root: Path | None) -> str:
    """The path relative to `root` when inside it, as text that every report format can hold
    (bytes of a file name that are not UTF-8 are shown as `\\xNN`)."""
    if path.is_absolute() and (root is None or root.is_absolute()):
        return _display_path_cached(path, root)  # independent of the current directory
    return _display_path(path, root)


@functools.lru_cache(maxsize=4096)  # resolve() stats every path component: once per file, not per link
def _display_path_cached(path: Path, root: Path | None) -> str:
    return _display_path(path, root)


def _display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return printable(path.resolve().relative_to(root.resolve()).as_posix())
        except (ValueError, OSError, RuntimeError):
            pass
    return printable(path.as_posix())


def has_config_files(folder: Path | None) -> bool:
    """True when a folder holds Terraform or OpenTofu configuration files (`.tf`, `.tofu`, `.tf.json`, ...)."""
    if folder is None:
        return False
    try:
        with os.scandir(folder) as entries:
            return any(_suffix(e.name) is not None for e in entries)
    except (OSError, ValueError):
        return False


def _suffix(name: str) -> str | None:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return None


def _is_override(name: str, suffix: str) -> bool:
    stem = name[: -len(suffix)]
    return stem == "override" or stem.endswith("_override")


@dataclass
class _Block:
    kind: str
    labels: tuple[str, ...]
    start: int  # offsets in the file's text; for JSON syntax, of the block's object
    end: int
    line: int
    end_line: int
    closed: bool = True
    node: Any = None  # JSON syntax: the block's decoded object


@dataclass
class _File:
    path: Path
    text: str
    is_json: bool
    line_starts: list[int] | None = None

    def lines(self) -> list[int]:
        if self.line_starts is None:
            starts = [0]
            find = self.text.find
            at = find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = find("\n", at + 1)
            self.line_starts = starts
        return self.line_starts

    def line(self, no: int) -> str:
        starts = self.lines()
        if not 0 < no <= len(starts):
            return ""
        end = starts[no] - 1 if no < len(starts) else len(self.text)
        return self.text[starts[no - 1]:end].rstrip("\r")

    def offset(self, line: int) -> int:
        starts = self.lines()
        return starts[min(max(line, 1), len(starts)) - 1]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.lines(), offset)


@dataclass
class _Dir:
    path: Path
    files: list[tuple[str, str, Path]] | None = None  # (name, suffix, path), OpenTofu precedence applied
    scanned: set[Path] = field(default_factory=set)
    headers: dict[tuple[str, ...], tuple[_File, _Block]] = field(default_factory=dict)
    locals: list[tuple[_File, _Block]] = field(default_factory=list)


class SourceTree:
    """The configuration files of a root module and the local modules it calls."""

    def __init__(self, root: Path | None):
        self.root = root
        self.errors: list[str] = []
        self._noted: set[str] = set()
        self._top: Path | None = None
        self._dirs: dict[Path, _Dir] = {}
        self._files: dict[Path, _File | None] = {}
        self._nodes: dict[tuple[Path, int], Any] = {}
        self._depths: dict[tuple[Path, int, int], list[int | None]] = {}
        self._modules_json: dict[str, str] | None = None
        self._local_memo: dict[tuple[Path, str], tuple[Where, Any] | None] = {}
        self._local_names: dict[tuple[Path, int, int], dict[str, int]] = {}

    @property
    def available(self) -> bool:
        return self.root is not None

    def _note(self, text: str) -> None:
        text = printable(text)
        if text not in self._noted:
            self._noted.add(text)
            self.errors.append(text)

    def _show(self, path: Path) -> str:
        """A path for a note: relative to the current folder when under it (links not followed)."""
        try:
            return printable(path.relative_to(Path.cwd()).as_posix())
        except (ValueError, OSError):
            return display_path(path, Path.cwd())

    # -- the repository's bounds ----------------------------------------------------------
    @property
    def top(self) -> Path | None:
        """The folder nothing is read outside of: the git top level of the root module folder,
        or that folder itself when it is not in a git repository."""
        if self._top is None and self.root is not None:
            root = _resolved(self.root) or self.root
            self._top = root
            for folder in (root, *root.parents):
                try:
                    if (folder / ".git").exists():
                        self._top = folder
                        break
                except OSError:
                    continue
        return self._top

    def _inside(self, path: Path) -> bool:
        top = self.top
        real = _resolved(path)
        return top is not None and real is not None and (real == top or real.is_relative_to(top))

    # -- module directories -------------------------------------------------------------
    def module_dir(self, module_names: tuple[str, ...], sources: list[str | None]) -> Path | None:
        """Directory of a module given its call names and each call's `source`; None when it is
        not known, or lies outside the repository (then with a note in `errors`)."""
        if self.root is None:
            return None
        cur = self.root
        for depth, source in enumerate(sources):
            label = "module." + ".module.".join(module_names[: depth + 1])
            if source and source.startswith(("./", "../", ".\\", "..\\")):
                found = _resolved(cur / source.replace("\\", "/"))
            else:
                found = self._installed_module(".".join(module_names[: depth + 1]))
            if found is None:
                return None
            if not self._inside(found):
                self._note(f"{label}: its folder {self._show(found)} is outside the repository "
                           f"({self._show(self.top or self.root)}); its files are not read")
                return None
            cur = found
        return cur

    def _installed_module(self, key: str) -> Path | None:
        if self._modules_json is None:
            self._modules_json = {}
            assert self.root is not None
            manifest = self.root / ".terraform" / "modules" / "modules.json"
            text = self._read(manifest, quiet_missing=True)
            data: Any = None
            if text is not None:
                try:
                    data = json.loads(text)
                except (ValueError, RecursionError):
                    self._note(f"{self._show(manifest)}: not valid JSON; "
                               "modules installed by `terraform init` are not read")
            mods = data.get("Modules") if isinstance(data, dict) else None
            for mod in mods if isinstance(mods, list) else ():
                if isinstance(mod, dict) and isinstance(mod.get("Key"), str) and isinstance(mod.get("Dir"), str):
                    self._modules_json.setdefault(mod["Key"], mod["Dir"])
        rel = self._modules_json.get(key)
        if not rel or self.root is None:
            return None
        return _resolved(self.root / rel)

    # -- files ---------------------------------------------------------------------------
    def _read(self, path: Path, quiet_missing: bool = False) -> str | None:
        """A regular file inside the repository, at most MAX_FILE_BYTES, as text; else None."""
        show = self._show(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not quiet_missing and os.path.islink(path):
                self._note(f"{show}: a link to nothing; not read")
            return None
        except (OSError, ValueError):
            self._note(f"{show}: cannot be read; not read")
            return None
        if not stat.S_ISREG(st.st_mode):
            self._note(f"{show}: not a regular file ({_kind(st.st_mode)}); not read")
            return None
        if st.st_size > MAX_FILE_BYTES:
            self._note(f"{show}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({st.st_size:,} bytes); not read")
            return None
        if not self._inside(path):
            self._note(f"{show}: a link to a file outside the repository; not read")
            return None
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(os.path.realpath(path), flags)
        except (OSError, ValueError):
            self._note(f"{show}: cannot be opened; not read")
            return None
        try:
            st = os.fstat(fd)  # what was opened, in case the file changed since the stat
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                self._note(f"{show}: changed while being read; not read")
                return None
            chunks = []
            left = MAX_FILE_BYTES + 1
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        except OSError:
            self._note(f"{show}: cannot be read; not read")
            return None
        finally:
            os.close(fd)
        data = b"".join(chunks)
        if len(data) > MAX_FILE_BYTES:
            self._note(f"{show}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; not read")
            return None
        return data.decode("utf-8-sig", errors="replace")

    def _file(self, path: Path) -> _File | None:
        if path not in self._files:
            text = self._read(path)
            name = path.name
            self._files[path] = None if text is None else _File(path, text, name.endswith(".json"))
        return self._files[path]

    # -- blocks ------------------------------------------------------------------------
    def _dir(self, directory: Path) -> _Dir:
        d = self._dirs.get(directory)
        if d is None:
            d = self._dirs[directory] = _Dir(directory)
        if d.files is None:
            names: list[str] = []
            try:
                with os.scandir(directory) as entries:
                    names = [e.name for e in entries if _suffix(e.name) is not None]
            except (OSError, ValueError):
                pass
            present = set(names)
            files = []
            for name in sorted(names):
                suffix = _suffix(name)
                assert suffix is not None
                better = _SHADOWED_BY.get(suffix)
                if better is not None and name[: -len(suffix)] + better in present:
                    continue  # OpenTofu reads x.tofu (x.tofu.json) instead of x.tf (x.tf.json)
                files.append((name, suffix, directory / name))
            d.files = files
        return d

    def _order(self, d: _Dir, kind: str) -> Iterable[Path]:
        """The folder's files not scanned yet, the likeliest for `kind` first, override files last."""
        likely = _LIKELY.get(kind, ())
        assert d.files is not None

        def rank(item: tuple[str, str, Path]) -> tuple[bool, bool, str]:
            name, suffix, _ = item
            stem = name[: -len(suffix)]
            return (_is_override(name, suffix), stem not in likely, name)

        for _, _, path in sorted(d.files, key=rank):
            if path not in d.scanned:
                yield path

    def _scan_file(self, d: _Dir, path: Path) -> None:
        d.scanned.add(path)
        f = self._file(path)
        if f is None:
            return
        if f.is_json:
            blocks = self._json_blocks(f)
        else:
            try:
                blocks = [_Block(b.kind, b.labels, b.start, b.end, b.line, b.end_line, b.closed)
                          for b in hclscan.top_level_blocks(f.text)]
            except hclscan.TooDeep as exc:
                self._note(f"{self._show(path)}:{f.line_of(exc.args[0])}: nests brackets or strings more than "
                           f"{hclscan.MAX_NESTING} deep; not read")
                return
        for blk in blocks:
            if blk.kind == "locals":
                d.locals.append((f, blk))
            else:
                d.headers.setdefault((blk.kind, *blk.labels), (f, blk))

    def _find(self, directory: Path, kind: str, labels: tuple[str, ...]) -> tuple[_File, _Block] | None:
        d = self._dir(directory)
        key = (kind, *labels)
        found = d.headers.get(key)
        if found is None:
            for path in self._order(d, kind):
                self._scan_file(d, path)
                found = d.headers.get(key)
                if found is not None:
                    break
        return found

    def block(self, directory: Path | None, kind: str, *labels: str) -> tuple[Where, dict] | None:
        """Find a block (`resource "t" "n"`, `data`, `module "m"`, `variable`, `output`): where it
        is, and its arguments as python-hcl2 gives them ({} when the block cannot be parsed)."""
        if directory is None:
            return None
        found = self._find(directory, kind, tuple(labels))
        if found is None:
            return None
        f, blk = found
        return Where(f.path, blk.line, blk.end_line), self._block_node(f, blk)

    def where(self, directory: Path | None, kind: str, *labels: str) -> Where | None:
        """Where a block is, without parsing it (`block` also parses its arguments)."""
        found = self._find(directory, kind, tuple(labels)) if directory is not None else None
        return Where(found[0].path, found[1].line, found[1].end_line) if found is not None else None

    def _block_node(self, f: _File, blk: _Block) -> dict:
        key = (f.path, blk.start)
        if key not in self._nodes:
            node: Any = None
            if f.is_json:
                node = _hcl_like(blk.node, blk.line, blk.end_line)
            else:
                tree = self._parse(f, blk, f.text[blk.start:blk.end])
                node = tree.get(blk.kind) if isinstance(tree, dict) else None
                node = node[0] if isinstance(node, list) and node else node
                for label in blk.labels:
                    node = node.get(label) if isinstance(node, dict) else None
            self._nodes[key] = node if isinstance(node, dict) else {}
        return self._nodes[key]

    def _parse(self, f: _File, blk: _Block, text: str, first_line: int | None = None) -> Any:
        """python-hcl2 on one block's text, with the file's line numbers; None when the block is
        too large, never closes, or does not parse (with a note)."""
        first_line = blk.line if first_line is None else first_line
        where = f"{self._show(f.path)}:{blk.line}"
        what = f"{blk.kind} {' '.join(json.dumps(label) for label in blk.labels)}".strip()
        if not blk.closed:
            self._note(f"{where}: {what} never closes; its arguments are not read")
            return None
        lines = text.count("\n") + 1
        if lines > MAX_BLOCK_LINES or len(text) > MAX_BLOCK_BYTES:
            self._note(f"{where}: {what} is too large to read ({lines:,} lines, {len(text):,} characters; "
                       f"at most {MAX_BLOCK_LINES:,} lines and {MAX_BLOCK_BYTES // 1024} KB); "
                       "its arguments are not read")
            return None
        import hcl2  # imported only when a chain reaches a .tf file

        try:
            tree = hcl2.loads(text.replace("\r\n", "\n") + "\n", with_meta=True)
        except Exception as exc:  # noqa: BLE001 - python-hcl2 raises lark errors of several kinds, and RecursionError
            self._note(f"{where}: {what} could not be parsed ({type(exc).__name__}); its arguments are not read")
            return None
        _shift_lines(tree, first_line - 1)
        return tree

    def local(self, directory: Path | None, name: str) -> tuple[Where, Any] | None:
        """A local value's expression (as python-hcl2 gives it) and where it is defined; read once
        (a `for_each` over a map local asks for it once per key)."""
        if directory is None:
            return None
        key = (directory, name)
        if key not in self._local_memo:
            self._local_memo[key] = self._find_local(directory, name)
        return self._local_memo[key]

    def _find_local(self, directory: Path, name: str) -> tuple[Where, Any] | None:
        d = self._dir(directory)
        checked = 0
        while True:
            for f, blk in d.locals[checked:]:
                found = self._local_in(f, blk, name)
                if found is not None:
                    return found
            checked = len(d.locals)
            path = next(iter(self._order(d, "locals")), None)
            if path is None:
                return None
            self._scan_file(d, path)

    def _local_in(self, f: _File, blk: _Block, name: str) -> tuple[Where, Any] | None:
        if f.is_json:
            if isinstance(blk.node, dict) and name in blk.node:
                line = self._json_key_line(f, blk, name) or blk.line
                return Where(f.path, line, line), blk.node[name]
            return None
        names = self._local_lines(f, blk)
        if name not in names:
            return None
        depths = self._line_depths(f, blk.line, blk.end_line)
        if depths is None:
            return None
        line = names[name]
        # The attribute runs up to the next line that starts in the block's body (or its end).
        last = line
        for i in range(line - blk.line + 1, len(depths)):
            depth = depths[i]
            if depth is not None and depth <= 1:
                break
            last = blk.line + i
        value: Any = _MISSING
        if last < blk.end_line:
            text = "locals {\n" + f.text[f.offset(line):f.offset(last + 1)] + "}"
            one = _Block("locals", (), f.offset(line), f.offset(last + 1), line, last)
            tree = self._parse(f, one, text, first_line=line - 1)
            value = _first_locals(tree, name)
        if value is _MISSING:  # `}` on the attribute's last line, or it did not parse alone: the whole block
            key = (f.path, blk.start)
            if key not in self._nodes:
                self._nodes[key] = self._parse(f, blk, f.text[blk.start:blk.end]) or {}
            value = _first_locals(self._nodes[key], name)
        if value is _MISSING:
            return None
        return Where(f.path, line, line), value

    def _local_lines(self, f: _File, blk: _Block) -> dict[str, int]:
        """The names a locals block defines and their lines, found once per block (the first wins)."""
        key = (f.path, blk.start, -1)
        found = self._local_names.get(key)
        if found is None:
            found = {}
            depths = self._line_depths(f, blk.line, blk.end_line)
            name_at = re.compile(r"\s*([A-Za-z_][\w-]*)\s*=(?!=)")
            for i, depth in enumerate(depths or ()):
                if depth == 1:
                    m = name_at.match(f.line(blk.line + i))
                    if m:
                        found.setdefault(m.group(1), blk.line + i)
            self._local_names[key] = found
        return found

    # -- lines -------------------------------------------------------------------------
    def _line_depths(self, f: _File, first: int, last: int) -> list[int | None] | None:
        key = (f.path, first, last)
        if key not in self._depths:
            start = f.offset(first)
            end = f.offset(last + 1) if last < len(f.lines()) else len(f.text)
            try:
                self._depths[key] = hclscan.line_depths(f.text, start, end)
            except hclscan.TooDeep:
                self._depths[key] = []
        return self._depths[key] or None

    def local_texts(self, directory: Path | None) -> dict[str, str]:
        """Every local value of a module folder as source text (name -> the expression after `=`):
        what refers to what, read without parsing (the first definition of a name wins)."""
        if directory is None:
            return {}
        d = self._dir(directory)
        for path in list(self._order(d, "locals")):
            self._scan_file(d, path)
        out: dict[str, str] = {}
        for f, blk in d.locals:
            if f.is_json:
                if isinstance(blk.node, dict):
                    for name, value in blk.node.items():
                        out.setdefault(name, json.dumps(value))
                continue
            starts = sorted((line, name) for name, line in self._local_lines(f, blk).items())
            for n, (line, name) in enumerate(starts):
                last = starts[n + 1][0] if n + 1 < len(starts) else blk.end_line
                text = "\n".join(f.line(j) for j in range(line, max(line + 1, last)))
                out.setdefault(name, text.split("=", 1)[1] if "=" in text else "")
        return out

    def attr_line(self, where: Where, path: list[str | int]) -> int | None:
        """Line of `attr =` (or of the nested block) inside a block's line range: the first step
        at the shallowest level below the block, each next step inside the one before."""
        f = self._file(where.file)
        if f is None:
            return None
        total = len(f.lines())
        start, end = where.line, min(where.end_line or total, total)
        if start < 1 or start > end:
            return None
        depths = self._line_depths(f, start, end)
        if depths is None:
            return None
        found = None
        level = 0  # depth of the line found last (the block's own line: 0)
        lo, hi = start, end  # the range the next step is looked for in
        for step in path:
            if not isinstance(step, str):
                continue
            if f.is_json:
                pat = re.compile(rf'\s*"{re.escape(step)}"\s*:')
            else:
                pat = re.compile(rf'\s*{re.escape(step)}\s*(?:=(?!=)|\{{|")')
            best: tuple[int, int] | None = None
            for no in range(lo if found is None else found + 1, hi + 1):
                depth = depths[no - start] if no - start < len(depths) else None
                if depth is None or depth <= level or (best is not None and depth >= best[0]):
                    continue
                if pat.match(f.line(no)):
                    best = (depth, no)
            if best is None:
                break
            level, found = best
            lo, hi = found, end
            for no in range(found + 1, end + 1):
                depth = depths[no - start] if no - start < len(depths) else None
                if depth is not None and depth <= level:
                    hi = no - 1
                    break
        return found

    def line_text(self, file: Path, line: int) -> str:
        f = self._file(file)
        text = f.line(line).strip() if f is not None else ""
        return re.sub(r"^([\w-]+)\s*=\s*", r"\1 = ", text)  # `ami      = x` -> `ami = x`

    # -- Terraform's JSON syntax ---------------------------------------------------------
    def _json_blocks(self, f: _File) -> list[_Block]:
        try:
            doc = json.loads(f.text)
        except (ValueError, RecursionError):
            self._note(f"{self._show(f.path)}: not valid JSON; not read")
            return []
        out: list[_Block] = []
        if not isinstance(doc, dict):
            return out
        for kind in ("resource", "data"):
            for group in _as_list(doc.get(kind)):
                for rtype, named in (group.items() if isinstance(group, dict) else ()):
                    for byname in _as_list(named):
                        for name, body in (byname.items() if isinstance(byname, dict) else ()):
                            out.append(self._json_block(f, kind, (rtype, name), body, [kind, rtype, name]))
        for kind in ("module", "variable", "output"):
            for group in _as_list(doc.get(kind)):
                for name, body in (group.items() if isinstance(group, dict) else ()):
                    out.append(self._json_block(f, kind, (name,), body, [kind, name]))
        for group in _as_list(doc.get("locals")):
            if isinstance(group, dict):
                out.append(self._json_block(f, "locals", (), group, ["locals"]))
        return out

    def _json_block(self, f: _File, kind: str, labels: tuple[str, ...], body: Any, keys: list[str]) -> _Block:
        body = body[0] if isinstance(body, list) and body else body
        start = 0
        for key in keys:  # where the block's key is written: the keys in order
            m = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(f.text, start)
            if m is None:
                break
            start = m.end()
        end = start
        try:
            for ev in hclscan.events(f.text, start):
                if ev.kind == "close" and ev.depth == 0:
                    end = ev.pos + 1
                    break
        except hclscan.TooDeep:
            pass
        return _Block(kind, labels, start, end, f.line_of(start), f.line_of(max(start, end - 1)), True,
                      body if isinstance(body, dict) else {})

    def _json_key_line(self, f: _File, blk: _Block, key: str) -> int | None:
        m = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(f.text, blk.start, blk.end)
        return f.line_of(m.start()) if m else None


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte in a name from the plan
        return None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _shift_lines(tree: Any, offset: int) -> None:
    """Add `offset` to every `__start_line__` / `__end_line__` of a python-hcl2 tree."""
    if not offset:
        return
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in ("__start_line__", "__end_line__"):
                if isinstance(node.get(key), int):
                    node[key] += offset
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))


_MISSING: Any = object()


def _first_locals(tree: Any, name: str) -> Any:
    blocks = tree.get("locals") if isinstance(tree, dict) else None
    for block in blocks if isinstance(blocks, list) else ():
        if isinstance(block, dict) and name in block:
            return block[name]
    return _MISSING


def _hcl_like(body: Any, line: int, end_line: int) -> dict:
    """A JSON-syntax block body shaped like python-hcl2's: meta blocks as lists of objects."""
    if not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in _NESTED_META_BLOCKS and isinstance(value, dict):
            value = [value]
        out[key] = value
    out["__start_line__"] = line
    out["__end_line__"] = end_line
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
