"""Reading HCL expressions as text: the references they make (with the index each reference
carries, `data.aws_ami.role[each.key].id`) and the functions they call.

The plan's configuration lists an expression's references without dynamic indexes
(`data.aws_ami.role`, `each.key`), and locals are not in the plan at all, so the cause engine
reads the source text too: python-hcl2 gives expressions back as `${...}` strings, and raw
`.tf` lines are read for edits. This is a scanner, not a parser: it knows strings, templates,
brackets and `for` expressions, which is what finding references takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_FOR = re.compile(r"\bfor\s+([A-Za-z_][\w-]*)(?:\s*,\s*([A-Za-z_][\w-]*))?\s+in\b")
_RESOURCE_TYPE = re.compile(r"^[a-z][a-z0-9]*_[a-z0-9_]+$")
HEADS = frozenset({"var", "local", "module", "data", "each", "count", "path", "terraform", "self"})
VOLATILE_FUNCTIONS = frozenset({"timestamp", "uuid", "bcrypt", "plantimestamp", "uuidv5_random"})
MAX_SCAN = 200_000  # characters of one expression; longer text is cut (a generated file, an attack)


@dataclass(frozen=True)
class Ref:
    """One reference: `text` as written (index included), its steps, and the index expression
    of the resource/data/module step (`each.key`, `0`, `"web"`), if any."""

    text: str
    steps: tuple[str, ...]  # names only: ("data", "aws_ami", "role", "id")
    index: str | None = None  # the first index written (`[each.key]`)
    index_at: int = -1  # how many steps precede the first index
    indexes: tuple[tuple[int, str], ...] = ()  # every index: (steps before it, its text)

    def index_after(self, n: int) -> str | None:
        """The index written right after the first `n` steps (`data.t.n[KEY]`: n = 3)."""
        return next((text for at, text in self.indexes if at == n), None)

    def target(self) -> tuple[str, int | str | None] | None:
        """The resource or data source the reference names, as its address inside the module
        (`aws_instance.x`, `data.aws_ami.y`), with the literal key written on it (`["web"]`, `[0]`;
        None when there is none or it is not a literal); None for `var.`, `local.`, `module.`,
        `each.` and the other heads that name no object."""
        if self.head == "data":
            if len(self.steps) < 3:
                return None
            return f"data.{self.steps[1]}.{self.steps[2]}", literal_key(self.index_after(3))
        if self.head in HEADS or len(self.steps) < 2:
            return None
        return f"{self.steps[0]}.{self.steps[1]}", literal_key(self.index_after(2))

    def attr_path(self, n: int) -> tuple[str | int, ...]:
        """Steps after the first `n`, with literal indexes in place: `names[0]` -> ("names", 0)."""
        out: list[str | int] = []
        for i, step in enumerate(self.steps[n:], n):
            out.append(step)
            lit = literal_key(self.index_after(i + 1))
            if lit is not None:
                out.append(lit)
        return tuple(out)

    @property
    def head(self) -> str:
        return self.steps[0]

    @property
    def base(self) -> str:
        """Without any index: `data.aws_ami.role.id`."""
        return ".".join(self.steps)


@dataclass
class Scan:
    refs: list[Ref] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)


def _skip_string(text: str, i: int, scan: Scan, depth: int) -> int:
    """`text[i]` is a quote: skip to after the closing one, scanning `${...}` inside."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c in "$%" and text.startswith("{", i + 1):
            if i > 0 and text[i - 1] == c:  # `$${` / `%%{` is an escaped literal
                i += 2
                continue
            end = _matching(text, i + 1)
            if depth < 20:
                _scan_expr(text[i + 2:end], scan, depth + 1)
            i = end + 1
            continue
        i += 1
    return n


def _matching(text: str, i: int) -> int:
    """Index of the bracket that closes the one at `text[i]` (strings skipped), or len(text)."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = [pairs[text[i]]]
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == '"':
            j += 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
        elif c in pairs:
            stack.append(pairs[c])
        elif c == stack[-1]:
            stack.pop()
            if not stack:
                return j
        j += 1
    return n


def _scan_expr(text: str, scan: Scan, depth: int = 0) -> None:
    text = text[:MAX_SCAN]
    bound = {name for m in _FOR.finditer(text) for name in m.groups() if name}
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i, scan, depth)
            continue
        if c == "<" and text.startswith("<<", i):  # heredoc: a template until the marker line
            m = re.match(r"<<-?([A-Za-z_][\w-]*)\n", text[i:])
            if m:
                end_marker = re.compile(rf"^\s*{re.escape(m.group(1))}\s*$", re.M)
                body_start = i + m.end()
                found = end_marker.search(text, body_start)
                body_end = found.start() if found else n
                _scan_template(text[body_start:body_end], scan, depth + 1)
                i = found.end() if found else n
                continue
        if c == "#" or (c == "/" and text.startswith("//", i)):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if (c.isalpha() or c == "_") and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_-.")):
            m = _IDENT.match(text, i)
            assert m is not None
            name = m.group(0)
            j = m.end()
            k = j
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == "(":
                scan.functions.append(name)
                i = j
                continue
            if k + 1 < n and text[k] == ":" and text[k + 1] == ":":  # provider::ns::function(
                i = k + 2
                while i < n and (text[i].isalnum() or text[i] in "_:"):
                    i += 1
                continue
            i = _read_ref(text, i, name, j, bound, scan, depth)
            continue
        i += 1


def _read_ref(text: str, start: int, head: str, j: int, bound: set[str], scan: Scan, depth: int) -> int:
    steps = [head]
    index: str | None = None
    index_at = -1
    indexes: list[tuple[int, str]] = []
    n = len(text)
    while j < n:
        if text[j] == "." and j + 1 < n and (text[j + 1].isalpha() or text[j + 1] == "_"):
            m = _IDENT.match(text, j + 1)
            assert m is not None
            steps.append(m.group(0))
            j = m.end()
        elif text[j] == "." and j + 1 < n and (text[j + 1] == "*" or text[j + 1].isdigit()):
            j += 2
            while j < n and text[j].isdigit():
                j += 1
        elif text[j] == "[":
            end = _matching(text, j)
            inner = text[j + 1:end].strip()
            if inner != "*":
                indexes.append((len(steps), inner))
                if index is None:
                    index, index_at = inner, len(steps)
            if depth < 20:  # functions inside the brackets count; references there are the index's own
                sub = Scan()
                _scan_expr(inner, sub, depth + 1)
                scan.functions.extend(sub.functions)
            j = end + 1
        else:
            break
    if _is_reference_head(head, bound) and len(steps) >= 2:
        scan.refs.append(Ref(text=text[start:j], steps=tuple(steps), index=index, index_at=index_at,
                             indexes=tuple(indexes)))
    return j


def _is_reference_head(head: str, bound: set[str]) -> bool:
    if head in bound:
        return False
    return head in HEADS or bool(_RESOURCE_TYPE.match(head))


def _scan_template(text: str, scan: Scan, depth: int) -> None:
    """A template: literal text with `${...}` and `%{...}` sequences."""
    text = text[:MAX_SCAN]
    i, n = 0, len(text)
    while i < n:
        at = min((p for p in (text.find("${", i), text.find("%{", i)) if p >= 0), default=-1)
        if at < 0:
            return
        if at > 0 and text[at - 1] == text[at]:  # $${ and %%{ are escapes
            i = at + 2
            continue
        end = _matching(text, at + 1)
        inner = text[at + 2:end]
        if text[at] == "%":
            inner = re.sub(r"^\s*(?:for\s+[\w-]+(?:\s*,\s*[\w-]+)?\s+in|if|else|endif|endfor)\b", " ", inner)
        _scan_expr(inner, scan, depth + 1)
        i = end + 1


def scan_expression(text: str) -> Scan:
    """References and function calls of an expression written as HCL source."""
    scan = Scan()
    _scan_expr(text, scan)
    return scan


def scan_value(value: Any) -> Scan:
    """References and function calls of a value as python-hcl2 returns it (`"${...}"` strings,
    dicts for objects and blocks, lists)."""
    scan = Scan()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            _scan_template(node, scan, 0)
        elif isinstance(node, dict):
            stack.extend(reversed([v for k, v in node.items() if not (isinstance(k, str) and k.startswith("__"))]))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return scan


def single_reference(value: Any) -> Ref | None:
    """The reference when a python-hcl2 value is exactly one reference (`"${var.x}"`), else None."""
    if not isinstance(value, str) or not (value.startswith("${") and value.endswith("}")):
        return None
    inner = value[2:-1].strip()
    scan = scan_expression(inner)
    if len(scan.refs) >= 1 and scan.refs[0].text == inner:
        return scan.refs[0]
    return None


def literal_key(index: str | None) -> int | str | None:
    """`"web"` -> "web", `0` -> 0; None for an index that is not a literal."""
    if index is None:
        return None
    index = index.strip()
    if re.fullmatch(r"-?\d+", index):
        return int(index)
    m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', index)
    if m and "${" not in m.group(1):
        return m.group(1).encode("utf-8").decode("unicode_escape") if "\\" in m.group(1) else m.group(1)
    return None
