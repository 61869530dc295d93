"""Exact, minimal text edits of Terraform files, for `replace-guard fix`.

Two actions, the ones `guard.fixes` computes (`guard.findings.Edit`):

- `replace_reference`: in the expression of the argument `attribute` whose name is written on
  line `line` (1-based), put the HCL literal `text` in place of the reference `find`.
- `ignore_changes`: make `lifecycle { ignore_changes = [...] }` of the resource or data block
  whose header is on line `line` list `text`.

Use: `text = read_source(path)`; `result = apply(text, edits)` with the edits of that one file
(`guard.findings.Edit` objects or `EditSpec`s, lines of `text`); `result.outcomes[i]` says what
became of `edits[i]` (`applied`, `in_place` or `refused`, a `reason` to show, and `new_line`,
where its argument or block is now); `unified_diff(text, result.text, relpath)` is the patch
for `git apply` / `patch -p1` in the root module's folder; `write_source(path, result.text)`
for `--write`.

How it works: one hand-written scanner turns the whole file into tokens (identifiers,
operators, brackets, quoted strings and heredocs with their `${...}`/`%{...}` sequences,
comments, newlines) with their offsets and pairs every bracket, quote and heredoc; one pass reads
the bodies (arguments and blocks) and the elements of object constructors. Every step is linear
in the size of the file and nothing recurses, so a 2 MB file, or one nested fifty thousand levels
deep, costs about the same per character as a small one. Edits are splices of the original text
at token offsets: every other character (comments, blank lines, alignment, line endings, a
byte-order mark, the presence of a final newline) stays as it was, and all the edits of one file
are located in the original text before any of them is made. New lines take the file's line
ending (CRLF when most lines have one) and the indentation of the block they go in.

Refusals: anything the scanner cannot read with certainty (an unterminated string, heredoc or
comment, brackets that do not pair, a body that is neither arguments nor blocks) makes every edit
of the file refused, with the line it stopped at; so does, for one edit, an argument or block
that cannot be told apart from another one, a reference that occurs more than once in the
expression or not at all, a closing brace that shares its line with code, a second `lifecycle`
block, an `ignore_changes` that is neither `all` nor a list written out, and an edit that
overlaps one given before it in the same run.

References inside templates: in `"image=${data.aws_ami.x.id}"` the reference is replaced by the
content of the quoted literal (`"image=ami-0abc"`): a quoted literal's content is written with
the same escapes as a quoted template's (`\\"`, `\\n`, `$${`, `%%{`), so it is spliced as it is.
The `${...}` is kept, with the literal inside (`"image=${"ami-0abc"}"`, equally valid), when
splicing could change the meaning: `~` strip markers, a `%{...}` directive, a literal that is
not a string, number or bool, a literal that would join a neighbouring `$`/`%` and `{` into a
new template sequence, and in heredocs a literal with a backslash escape (heredocs do not read
them), containing the heredoc's marker, or (`<<-`) empty or starting with a blank where it would
start a line, which would change the indentation `<<-` strips.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

__all__ = ["EditLike", "EditResult", "EditSpec", "HclEditError", "Outcome", "apply", "read_source",
           "unified_diff", "write_source"]

Status = Literal["applied", "in_place", "refused"]
REPLACE = "replace_reference"
IGNORE = "ignore_changes"
SET = "set_argument"  # on a module call: `attribute = text`, when the call does not set it yet
APPEND = "append_block"  # a top-level block (`moved { ... }`) at the end of the file


class HclEditError(Exception):
    """A file that cannot be read or written as UTF-8 text, or a path a diff cannot name."""


class EditLike(Protocol):
    """What `apply` reads of an edit: `guard.findings.Edit` and `EditSpec` both fit."""

    @property
    def action(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def attribute(self) -> str | None: ...
    @property
    def find(self) -> str | None: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class EditSpec:
    action: str  # "replace_reference" or "ignore_changes"
    line: int  # 1-based line in the original text
    text: str  # the HCL literal to put in (pin), or the attribute to ignore
    attribute: str | None = None  # the argument or object key whose expression changes (pin)
    find: str | None = None  # the reference to replace (pin)

    @classmethod
    def of(cls, edit: EditLike) -> EditSpec:
        return cls(action=edit.action, line=edit.line, text=edit.text, attribute=edit.attribute, find=edit.find)


@dataclass(frozen=True)
class Outcome:
    edit: EditSpec
    status: Status  # applied | in_place (nothing to do) | refused
    reason: str  # a sentence for the user: what was done, or why not
    new_line: int | None = None  # where the argument (pin) or block (ignore) is in the new text


@dataclass(frozen=True)
class EditResult:
    text: str  # the new text (the original one when nothing applied)
    outcomes: list[Outcome]  # one per edit given, in the same order
    shifts: tuple[tuple[int, int], ...] = ()  # (first original line after a change, lines added before it)

    @property
    def changed(self) -> bool:
        return any(o.status == "applied" for o in self.outcomes)

    @property
    def refused(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "refused"]

    def new_line(self, line: int) -> int:
        """Where a line of the original text is in the new text (its first line, for a line that
        changed); for reporting, and for running the same edits again on the result."""
        i = bisect.bisect_right(self.shifts, (line, float("inf")))
        return line + (self.shifts[i - 1][1] if i else 0)


# ---------------------------------------------------------------------------------------------
# Scanner

class _ScanError(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset
        self.message = message


# token kinds
_IDENT, _NUMBER, _OP, _NL, _COMMENT = "ident", "number", "op", "nl", "comment"
_OQUOTE, _CQUOTE, _LIT = "oquote", "cquote", "lit"
_OHEREDOC, _CHEREDOC = "oheredoc", "cheredoc"
_INTERP, _ICLOSE = "interp", "iclose"  # `${` or `%{` (with an optional `~`), and the `}` closing it
_OPENERS = frozenset({"{", "[", "(", _OQUOTE, _OHEREDOC, _INTERP})
_PAIRS = {"}": "{", "]": "[", ")": "("}

# One token of expression mode, anchored at a position. Each alternative is a run of one
# character class or a fixed string: no nested quantifiers, so matching is linear.
_EXPR_TOKEN = re.compile(r"""
    (?:[ \t\ufeff]|\r(?!\n))*   # whitespace before the token
  (?:
    (?P<nl>\r?\n)
  | (?P<comment>\#[^\n]*|//[^\n]*)
  | (?P<block>/\*)
  | (?P<heredoc><<-?(?P<marker>[^\W\d][\w-]*)\r?\n)
  | (?P<ident>[^\W\d][\w-]*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<quote>")
  | (?P<open>[{\[(])
  | (?P<close>[}\])])
  | (?P<op>\.\.\.|==|!=|<=|>=|&&|\|\||=>|::|[-+*/%<>=!?:.,~])
  | (?P<eof>\Z)
  )
""", re.VERBOSE)
_QUOTED_SPECIAL = re.compile(r'["\\$%\n]')
_HEREDOC_SPECIAL = re.compile(r"[$%\n]")


@dataclass
class _Tokens:
    text: str
    kind: list[str]
    start: list[int]
    end: list[int]
    match: list[int]  # the paired bracket/quote/heredoc/interp token, -1 for others
    container: dict[int, int]  # interp token -> the quote or heredoc opener holding it
    line_starts: list[int]

    def __len__(self) -> int:
        return len(self.kind)

    def tok(self, i: int) -> str:
        return self.text[self.start[i]:self.end[i]]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def tline(self, i: int) -> int:
        return self.line_of(self.start[i])

    def is_op(self, i: int, op: str) -> bool:
        return 0 <= i < len(self.kind) and self.kind[i] == _OP and self.tok(i) == op

    def next_sig(self, i: int, stop: int) -> int:
        """The first token at or after `i` that is not a comment (or `stop`)."""
        kind = self.kind
        while i < stop and kind[i] == _COMMENT:
            i += 1
        return i

    def line_start(self, offset: int) -> int:
        return self.line_starts[self.line_of(offset) - 1]

    def indent_at(self, offset: int) -> str:
        """The leading whitespace of the line holding `offset` (a byte-order mark excluded)."""
        ls = self.line_start(offset)
        if ls == 0 and self.text.startswith("\ufeff"):
            ls = 1
        j = ls
        while j < len(self.text) and self.text[j] in " \t":
            j += 1
        return self.text[ls:j]

    def first_on_line(self, i: int) -> bool:
        ls = self.line_start(self.start[i])
        return self.text[ls:self.start[i]].strip(" \t\ufeff") == ""


@dataclass(slots=True)
class _Frame:
    opener: int  # the token that opened it
    kind: str  # "{", "[", "(", quote, heredoc or interp
    marker: str = ""  # a heredoc's
    check: bool = False  # a heredoc: whether its closing marker may start at the next position


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


def _scan(text: str) -> _Tokens:
    kind: list[str] = []
    start: list[int] = []
    end: list[int] = []
    match: list[int] = []
    container: dict[int, int] = {}
    stack: list[_Frame] = []
    n = len(text)
    pos = 0

    def emit(k: str, s: int, e: int) -> int:
        kind.append(k)
        start.append(s)
        end.append(e)
        match.append(-1)
        return len(kind) - 1

    def close(opener: int, k: str, s: int, e: int) -> None:
        i = emit(k, s, e)
        match[opener] = i
        match[i] = opener
        stack.pop()

    def open_sequence(at: int) -> int:
        """`text[at:]` starts `${` or `%{`: the interpolation/directive token; push its frame."""
        length = 3 if text.startswith("~", at + 2) else 2
        i = emit(_INTERP, at, at + length)
        container[i] = stack[-1].opener
        stack.append(_Frame(i, _INTERP))
        return at + length

    expr_match = _EXPR_TOKEN.match
    kind_append, start_append, end_append, match_append = kind.append, start.append, end.append, match.append
    simple = frozenset({_IDENT, _OP, _NUMBER, _NL})
    while pos < n:
        frame = stack[-1] if stack else None
        fkind = frame.kind if frame is not None else None
        if fkind == _OQUOTE:
            assert frame is not None
            p = lit = pos
            while True:
                m = _QUOTED_SPECIAL.search(text, p)
                if m is None:
                    raise _ScanError(start[frame.opener], "a quoted string never ends")
                at = m.start()
                c = text[at]
                if c == '"':
                    if at > lit:
                        emit(_LIT, lit, at)
                    close(frame.opener, _CQUOTE, at, at + 1)
                    pos = at + 1
                    break
                if c == "\n":
                    raise _ScanError(start[frame.opener], "a quoted string runs to the end of its line")
                if c == "\\":
                    if at + 1 >= n or text[at + 1] == "\n":
                        raise _ScanError(at, "a backslash ends a quoted string's line")
                    p = at + 2
                    continue
                # `$` or `%`
                if text.startswith(c + "{", at + 1):  # `$${` / `%%{`: an escaped literal
                    p = at + 3
                elif text.startswith("{", at + 1):
                    if at > lit:
                        emit(_LIT, lit, at)
                    pos = open_sequence(at)
                    break
                else:
                    p = at + 1
            continue
        if fkind == _OHEREDOC:
            assert frame is not None
            marker = frame.marker
            p = lit = pos
            check = frame.check
            frame.check = False
            while True:
                if check:
                    j = p
                    while j < n and text[j] in " \t":
                        j += 1
                    if text.startswith(marker, j):
                        k = j + len(marker)
                        if k == n or text[k] == "\n" or text.startswith("\r\n", k):
                            if p > lit:
                                emit(_LIT, lit, p)
                            close(frame.opener, _CHEREDOC, p, k)
                            pos = k
                            break
                    check = False
                m = _HEREDOC_SPECIAL.search(text, p)
                if m is None:
                    raise _ScanError(start[frame.opener], f"the heredoc {marker} never ends")
                at = m.start()
                c = text[at]
                if c == "\n":
                    p = at + 1
                    check = True
                    continue
                if text.startswith(c + "{", at + 1):
                    p = at + 3
                elif text.startswith("{", at + 1):
                    if at > lit:
                        emit(_LIT, lit, at)
                    pos = open_sequence(at)
                    break
                else:
                    p = at + 1
            continue
        m = expr_match(text, pos)
        if m is None:
            raise _ScanError(pos, f"unexpected character {text[pos]!r}")
        group = m.lastgroup or "eof"
        pos = m.start(group)
        e = m.end()
        if group in simple:
            kind_append(group)
            start_append(pos)
            end_append(e)
            match_append(-1)
        elif group == "eof":
            pass
        elif group == "comment":
            if text[e - 1] == "\r":  # the newline token takes a CRLF whole
                e -= 1
            emit(_COMMENT, pos, e)
        elif group == "block":
            j = text.find("*/", pos + 2)
            if j < 0:
                raise _ScanError(pos, "a /* comment never ends")
            e = j + 2
            emit(_COMMENT, pos, e)
        elif group == "heredoc":
            i = emit(_OHEREDOC, pos, e)
            stack.append(_Frame(i, _OHEREDOC, m.group("marker"), True))
        elif group == "quote":
            i = emit(_OQUOTE, pos, e)
            stack.append(_Frame(i, _OQUOTE))
        elif group == "open":
            i = emit(text[pos], pos, e)
            stack.append(_Frame(i, text[pos]))
        elif group == "close":
            c = text[pos]
            if frame is None:
                raise _ScanError(pos, f"`{c}` closes nothing")
            opener = frame.opener
            if fkind == _INTERP and c == "}":
                close(opener, _ICLOSE, pos, e)
                stack[-1].check = False
            elif fkind == _PAIRS[c]:
                close(opener, c, pos, e)
            else:
                what = "`${`" if fkind == _INTERP else f"`{fkind}`"
                raise _ScanError(pos, f"`{c}` cannot close the {what} opened on line "
                                      f"{text.count(chr(10), 0, start[opener]) + 1}")
        pos = e
    if stack:
        opener, fk = stack[-1].opener, stack[-1].kind
        what = {_OQUOTE: "a quoted string", _OHEREDOC: "a heredoc", _INTERP: "a `${`"}.get(fk, f"`{fk}`")
        raise _ScanError(start[opener], f"{what} is never closed")
    return _Tokens(text, kind, start, end, match, container, _line_starts(text))


# ---------------------------------------------------------------------------------------------
# Structure: bodies (arguments and blocks) and the elements of object constructors

@dataclass(eq=False)
class _Block:
    type: str
    labels: tuple[str, ...]
    first: int  # the type's token
    open: int
    close: int
    parent: _Block | None
    items: list[_Block | _Arg] = field(default_factory=list)


@dataclass(eq=False)
class _Arg:
    """An argument of a body (`name = expr`), or an element of an object constructor (`key = expr`)."""

    name: str | None  # None for a key that is an expression
    key: int  # the key's first token
    sep: int  # `=` (or `:` for an element)
    lo: int  # the expression's first token
    hi: int  # one past its last (comments after it excluded)
    block: _Block | None  # the block whose body holds it (or holds the argument it is an element of)
    owner: _Arg | None  # for an element: the argument or element whose expression holds it
    children: list[_Arg] = field(default_factory=list)


@dataclass
class _Tree:
    t: _Tokens
    top: list[_Block | _Arg]
    args_by_line: dict[int, list[_Arg]]


def _string_value(t: _Tokens, lo: int, hi: int) -> str | None:
    """The value of a quoted string without template sequences spanning tokens [lo, hi), or None."""
    if hi - lo < 2 or t.kind[lo] != _OQUOTE or t.match[lo] != hi - 1:
        return None
    if hi - lo == 2:
        return ""
    if hi - lo != 3 or t.kind[lo + 1] != _LIT:
        return None
    raw = t.tok(lo + 1)
    if "\\" not in raw:
        return raw.replace("$${", "${").replace("%%{", "%{")
    try:
        value = json.loads('"' + raw + '"')
    except ValueError:
        return None
    return str(value).replace("$${", "${").replace("%%{", "%{")


def _expr_end(t: _Tokens, i: int, stop: int, commas: bool, newlines: bool = True) -> tuple[int, int]:
    """Walk an expression from token `i`: (the token that ends it, one past its last significant
    token). It ends at `stop`, at a newline outside brackets (unless `newlines` is False: inside
    a list) and with `commas` at a comma."""
    kind, match = t.kind, t.match
    last = i
    while i < stop:
        k = kind[i]
        if k == _NL:
            if newlines:
                break
            i += 1
            continue
        if commas and k == _OP and t.tok(i) == ",":
            break
        if k in _OPENERS:
            i = match[i] + 1
            last = i
            continue
        i += 1
        if k != _COMMENT:
            last = i
    return i, last


def _parse(t: _Tokens) -> _Tree:
    kind, match = t.kind, t.match
    n = len(t)
    top: list[_Block | _Arg] = []
    args: list[_Arg] = []
    # each frame: (block or None, its items, one past the body's last token, next token to read)
    frames: list[tuple[_Block | None, list[_Block | _Arg], int]] = [(None, top, n)]
    positions = [0]
    while frames:
        block, items, stop = frames[-1]
        i = positions[-1]
        while i < stop and kind[i] in (_NL, _COMMENT):
            i += 1
        if i >= stop:
            frames.pop()
            positions.pop()
            continue
        if kind[i] != _IDENT:
            raise _ScanError(t.start[i], f"expected an argument or a block, found `{t.tok(i)}`")
        name = t.tok(i)
        j = t.next_sig(i + 1, stop)
        if j < stop and kind[j] == _OP and t.tok(j) == "=":
            lo = t.next_sig(j + 1, stop)
            after, hi = _expr_end(t, lo, stop, commas=False)
            if hi <= lo:
                raise _ScanError(t.start[j], f"the argument {name} has no value")
            arg = _Arg(name, i, j, lo, hi, block, None)
            items.append(arg)
            args.append(arg)
            positions[-1] = after
            continue
        labels: list[str] = []
        while j < stop and kind[j] in (_IDENT, _OQUOTE):
            if kind[j] == _IDENT:
                labels.append(t.tok(j))
                j = t.next_sig(j + 1, stop)
                continue
            value = _string_value(t, j, match[j] + 1)
            if value is None:
                raise _ScanError(t.start[j], "a block label must be a plain string")
            labels.append(value)
            j = t.next_sig(match[j] + 1, stop)
        if j < stop and kind[j] == "{":
            b = _Block(name, tuple(labels), i, j, match[j], block)
            items.append(b)
            positions[-1] = match[j] + 1
            frames.append((b, b.items, match[j]))
            positions.append(j + 1)
            continue
        found = t.tok(j) if j < stop else "the end of the body"
        raise _ScanError(t.start[j] if j < n else len(t.text), f"expected `=` or `{{` after {name}, found `{found}`")
    _elements(t, args)
    by_line: dict[int, list[_Arg]] = {}
    for a in args:
        by_line.setdefault(t.tline(a.key), []).append(a)
    return _Tree(t, top, by_line)


def _elements(t: _Tokens, args: list[_Arg]) -> None:
    """Find the elements of the object constructors inside the arguments' expressions (appended
    to `args`). Each token is looked at by one expression only: an object's elements take over
    the tokens of their values."""
    kind, match = t.kind, t.match
    work = list(args)
    while work:
        owner = work.pop()
        i, hi = owner.lo, owner.hi
        while i < hi:
            if kind[i] != "{":
                i += 1
                continue
            close = match[i]
            elements = _object_elements(t, i, close, owner)
            if elements is None:  # a `for` expression or not an object with keys: read through it
                i += 1
                continue
            for e in elements:
                owner.children.append(e)
                args.append(e)
                work.append(e)
            i = close + 1


def _object_elements(t: _Tokens, o: int, c: int, owner: _Arg) -> list[_Arg] | None:
    kind, match = t.kind, t.match
    j = t.next_sig(o + 1, c)
    if j < c and kind[j] == _IDENT and t.tok(j) == "for":
        k = t.next_sig(j + 1, c)
        if k < c and kind[k] == _IDENT:
            return None
    out: list[_Arg] = []
    while True:
        while j < c and kind[j] in (_NL, _COMMENT):
            j += 1
        if j >= c:
            return out
        key = j
        k = j
        while k < c and kind[k] != _NL and not (kind[k] == _OP and t.tok(k) in ("=", ":", ",")):
            k = match[k] + 1 if kind[k] in _OPENERS else k + 1
        if k >= c or kind[k] != _OP or t.tok(k) not in ("=", ":"):
            return None
        key_hi = k
        while key_hi > key and kind[key_hi - 1] == _COMMENT:
            key_hi -= 1
        name: str | None = None
        if key_hi - key == 1 and kind[key] == _IDENT:
            name = t.tok(key)
        else:
            name = _string_value(t, key, key_hi)
        lo = t.next_sig(k + 1, c)
        after, hi = _expr_end(t, lo, c, commas=True)
        if hi <= lo:
            return None
        out.append(_Arg(name, key, k, lo, hi, owner.block, owner))
        j = after + 1 if after < c else c


# ---------------------------------------------------------------------------------------------
# References

def _traversal_end(t: _Tokens, i: int, hi: int) -> int:
    """`t[i]` is an identifier: one past the last token of the traversal it starts."""
    kind = t.kind
    k = i + 1
    while k < hi:
        if kind[k] == _OP and t.tok(k) == "." and k + 1 < hi and (
                kind[k + 1] in (_IDENT, _NUMBER) or t.is_op(k + 1, "*")):
            k += 2
        elif kind[k] == "[":
            k = t.match[k] + 1
        else:
            break
    return k


def _normal(t: _Tokens, lo: int, hi: int) -> str:
    return "".join(t.tok(k) for k in range(lo, hi) if t.kind[k] not in (_COMMENT, _NL))


def _normal_is(t: _Tokens, lo: int, hi: int, want: str) -> bool:
    """`_normal(t, lo, hi) == want`, stopping at the first difference (references nested in the
    indexes of others are compared too: each comparison must cost what it matches, no more)."""
    at = 0
    for k in range(lo, hi):
        if t.kind[k] in (_COMMENT, _NL):
            continue
        piece = t.tok(k)
        if not want.startswith(piece, at):
            return False
        at += len(piece)
    return at == len(want)


def _roots(t: _Tokens, lo: int, hi: int) -> Iterable[tuple[int, int]]:
    """Every traversal in tokens [lo, hi) that starts at a root (not after `.` or `::`)."""
    kind = t.kind
    for i in range(lo, hi):
        if kind[i] != _IDENT:
            continue
        p = i - 1
        while p >= 0 and kind[p] == _COMMENT:
            p -= 1
        if p >= 0 and kind[p] == _OP and t.tok(p) in (".", "::"):
            continue
        yield i, _traversal_end(t, i, hi)


def _parse_snippet(text: str) -> _Tokens | None:
    try:
        return _scan(text)
    except _ScanError:
        return None


def _reference_form(text: str) -> str | None:
    """The normal form of a reference (`data.aws_ami.x.id`, `aws_instance.a["k"].ami`), or None."""
    t = _parse_snippet(text)
    if t is None or len(t) == 0 or t.kind[0] != _IDENT or _COMMENT in t.kind or _NL in t.kind:
        return None
    if _traversal_end(t, 0, len(t)) != len(t):
        return None
    return _normal(t, 0, len(t))


# ---------------------------------------------------------------------------------------------
# Edits

@dataclass
class _Splice:
    start: int
    end: int
    new: str
    owner: int  # index of the edit it belongs to


def _count(n: int) -> str:
    return {2: "twice", 3: "three times"}.get(n, f"{n} times")


def _newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


class _Editor:
    def __init__(self, text: str, tree: _Tree):
        self.text = text
        self.tree = tree
        self.t = tree.t
        self.nl = _newline(text)
        self.lines = max(1, len(self.t.line_starts) - (1 if text.endswith("\n") else 0))
        self.anchors: dict[int, int] = {}  # edit -> offset of its argument's key or its block's type
        self.unit = "\t" if text.count("\n\t") > text.count("\n  ") else "  "  # one level of indentation

    # -- replace_reference ----------------------------------------------------------------------
    def replace(self, spec: EditSpec, owner: int) -> tuple[Status, str, list[_Splice]]:
        t = self.t
        where = f"line {spec.line}"
        if not spec.attribute or not spec.find:
            return "refused", "the edit names no argument or no reference to replace", []
        want = _reference_form(spec.find)
        if want is None:
            return "refused", f"`{spec.find}` is not a reference", []
        lit = _parse_snippet(spec.text)
        if lit is None or len(lit) == 0 or _NL in lit.kind or _COMMENT in lit.kind:
            return "refused", f"`{spec.text}` is not a one-line HCL expression", []
        args = self._argument(spec.line, spec.attribute)
        if isinstance(args, str):
            return "refused", args, []
        arg = args
        self.anchors[owner] = t.start[arg.key]
        hits = [(i, e) for i, e in _roots(t, arg.lo, arg.hi) if _normal_is(t, i, e, want)]
        label = f"the expression of {spec.attribute} at {where}"
        if len(hits) > 1:
            return "refused", f"the reference {spec.find} occurs {_count(len(hits))} in {label}", []
        if not hits:
            if self._holds(arg, lit):
                return "in_place", f"{spec.attribute} at {where} already holds {spec.text}", []
            return "refused", f"the reference {spec.find} is not in {label}", []
        i, e = hits[0]
        if any(t.kind[k] == _COMMENT for k in range(i, e)):
            return "refused", f"a comment is written inside the reference {spec.find} at {where}", []
        splice = self._template_splice(i, e, lit) or (t.start[i], t.end[e - 1], spec.text)
        return ("applied", f"{spec.attribute} at {where}: {spec.find} -> {spec.text}",
                [_Splice(splice[0], splice[1], splice[2], owner)])

    def _argument(self, line: int, name: str) -> _Arg | str:
        """The argument (or object element) `name` written on `line`, or why there is none.

        In order: an argument or element named `name` whose key is on the line; one on the line
        inside a nested block or an element named `name` (`root_block_device { volume_size = ...}`);
        an element `name` inside the expression of an argument written on the line
        (`for_each = {` on the line, `web = ...` further down)."""
        if not 1 <= line <= self.lines:
            return f"the file has no line {line} (it has {self.lines})"
        on_line = self.tree.args_by_line.get(line, [])
        ids = {id(a) for a in on_line}
        for tier in range(3):
            if tier == 0:
                found = [a for a in on_line if a.name == name]
            elif tier == 1:
                found = _within(on_line, name)
            else:
                found = [d for a in on_line if a.owner is None or id(a.owner) not in ids
                         for d in _descendants(a) if d.name == name]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                return f"{name} is written {_count(len(found))} at line {line}: which one to change is not certain"
        return f"no argument {name} is written at line {line}"

    def _holds(self, arg: _Arg, lit: _Tokens) -> bool:
        """Whether the literal is already in the expression: as written, or spliced into a template."""
        t = self.t
        if _normal(lit, 0, len(lit)) in _normal(t, arg.lo, arg.hi):
            return True
        content = _splice_content(lit)
        if content:
            return any(t.kind[k] == _LIT and content in t.tok(k) for k in range(arg.lo, arg.hi))
        return False

    def _template_splice(self, i: int, e: int, lit: _Tokens) -> tuple[int, int, str] | None:
        """When the reference is the whole of a `${...}`, the literal's content in its place."""
        t, text = self.t, self.text
        o, c = i - 1, e
        if o < 0 or c >= len(t) or t.kind[o] != _INTERP or t.kind[c] != _ICLOSE or t.match[o] != c:
            return None
        if t.tok(o) != "${" or t.is_op(c - 1, "~"):
            return None
        content = _splice_content(lit)
        if content is None:
            return None
        s0, e0 = t.start[o], t.end[c]
        if content.startswith("{") and s0 > 0 and text[s0 - 1] in "$%":
            return None
        if content.endswith(("$", "%")) and text.startswith("{", e0):
            return None
        holder = t.container.get(o, -1)
        if holder >= 0 and t.kind[holder] == _OHEREDOC:
            opener = t.tok(holder)
            if "\\" in content or opener.lstrip("<-").rstrip("\r\n") in content:
                return None
            # `<<-` strips the indentation its lines share: a value that starts a line must not
            # change how much that is
            at_indent = text[t.line_start(s0):s0].strip(" \t") == ""
            if opener.startswith("<<-") and at_indent and (not content or content[0] in " \t"):
                return None
        return s0, e0, content

    # -- ignore_changes -------------------------------------------------------------------------
    def ignore(self, line: int, attrs: list[tuple[int, str, str]]) -> tuple[dict[int, tuple[Status, str]],
                                                                            list[_Splice]]:
        """`attrs`: (edit index, attribute as given, its normal form), all for the block at `line`."""
        t = self.t
        results: dict[int, tuple[Status, str]] = {}

        def refuse(reason: str) -> tuple[dict[int, tuple[Status, str]], list[_Splice]]:
            return {idx: ("refused", reason) for idx, _, _ in attrs}, []

        if not 1 <= line <= self.lines:
            return refuse(f"the file has no line {line} (it has {self.lines})")
        blocks = [b for b in self.tree.top if isinstance(b, _Block) and t.tline(b.first) == line]
        if not blocks:
            return refuse(f"no block starts at line {line}")
        block = blocks[0]
        for idx, _, _ in attrs:
            self.anchors[idx] = t.start[block.first]
        if block.type not in ("resource", "data"):
            return refuse(f"the block at line {line} is a {block.type} block: ignore_changes belongs in a "
                          "resource or data block")
        lifecycles = [b for b in block.items if isinstance(b, _Block) and b.type == "lifecycle" and not b.labels]
        if len(lifecycles) > 1:
            return refuse(f"the block at line {line} has {len(lifecycles)} lifecycle blocks")
        existing: list[str] = []
        lst: tuple[int, int] | None = None  # the `[` and `]` of the list
        if lifecycles:
            lc = lifecycles[0]
            ics = [a for a in lc.items if isinstance(a, _Arg) and a.name == "ignore_changes"]
            if len(ics) > 1:
                return refuse(f"the lifecycle block at line {t.tline(lc.first)} sets ignore_changes "
                              f"{_count(len(ics))}")
            if ics:
                ic = ics[0]
                expr = _normal(t, ic.lo, ic.hi)
                if expr in ("all", '"all"'):
                    for idx, attr, _ in attrs:
                        covers = f"ignore_changes = all at line {t.tline(ic.key)} already covers {attr}"
                        results[idx] = ("in_place", covers)
                    return results, []
                if t.kind[ic.lo] != "[" or t.match[ic.lo] != ic.hi - 1:
                    return refuse(f"ignore_changes at line {t.tline(ic.key)} is not a list written out")
                lst = (ic.lo, ic.hi - 1)
                existing = self._list_items(lst[0], lst[1])
        todo: list[str] = []
        for idx, attr, form in attrs:
            if form in existing or form in todo:
                results[idx] = ("in_place", f"ignore_changes of the block at line {line} already lists {attr}")
            else:
                todo.append(form)
                results[idx] = ("applied", f"block at line {line}: ignore_changes += {attr}")
        if not todo:
            return results, []
        owner = next(idx for idx, s in results.items() if s[0] == "applied")
        if lst is not None:
            splices = self._extend_list(lst[0], lst[1], todo, owner)
        elif lifecycles:
            splices = self._insert_lines(lifecycles[0], [f"ignore_changes = [{', '.join(todo)}]"], owner)
        else:
            splices = self._insert_lines(block, ["lifecycle {", "\x00ignore_changes = [" + ", ".join(todo) + "]", "}"],
                                         owner)
        if isinstance(splices, str):
            return refuse(splices)
        return results, splices

    # -- set_argument, append_block -----------------------------------------------------------
    def set_argument(self, spec: EditSpec, owner: int) -> tuple[Status, str, list[_Splice]]:
        """`attribute = text` in the module block at `line`: added when the block does not set it,
        in place when it sets it to the same expression, refused when it sets it otherwise."""
        t = self.t
        line = spec.line
        if not spec.attribute or _reference_form(spec.attribute) != spec.attribute or "." in spec.attribute:
            return "refused", f"`{spec.attribute}` is not an argument name", []
        lit = _parse_snippet(spec.text)
        if lit is None or len(lit) == 0 or _NL in lit.kind or _COMMENT in lit.kind:
            return "refused", f"`{spec.text}` is not a one-line HCL expression", []
        if not 1 <= line <= self.lines:
            return "refused", f"the file has no line {line} (it has {self.lines})", []
        blocks = [b for b in self.tree.top if isinstance(b, _Block) and t.tline(b.first) == line]
        if not blocks:
            return "refused", f"no block starts at line {line}", []
        block = blocks[0]
        self.anchors[owner] = t.start[block.first]
        if block.type != "module":
            return "refused", f"the block at line {line} is a {block.type} block, not a module call", []
        current = [a for a in block.items if isinstance(a, _Arg) and a.name == spec.attribute]
        if current:
            arg = current[0]
            if self._holds(arg, lit):
                return "in_place", f"module block at line {line} already sets {spec.attribute} = {spec.text}", []
            return ("refused", f"the module block at line {line} already sets {spec.attribute} = "
                               f"{_normal(t, arg.lo, arg.hi)}: change it by hand if that is meant", [])
        found = self._insert_lines(block, [f"{spec.attribute} = {spec.text}"], owner)
        if isinstance(found, str):
            return "refused", found, []
        return "applied", f"module block at line {line}: {spec.attribute} = {spec.text}", found

    def append_block(self, spec: EditSpec, owner: int) -> tuple[Status, str, list[_Splice]]:
        """A top-level block at the end of the file; in place when the file holds the same block."""
        try:
            new = _parse(_scan(spec.text))
        except _ScanError:
            return "refused", "the block to add cannot be read", []
        made = [b for b in new.top if isinstance(b, _Block)]
        if len(made) != 1 or len(new.top) != 1:
            return "refused", "the text to add is not one block", []
        want = _normal(new.t, made[0].first, made[0].close + 1)
        for b in self.tree.top:
            if isinstance(b, _Block) and b.type == made[0].type and _normal(self.t, b.first, b.close + 1) == want:
                return "in_place", f"the file already holds this {b.type} block (line {self.t.tline(b.first)})", []
        text = self.text
        end = len(text)
        lead = "" if not text or text.endswith(("\n", "\r")) else self.nl
        body = self.nl.join(spec.text.strip("\n").split("\n")) + self.nl
        return "applied", f"a {made[0].type} block added at the end", [_Splice(end, end, lead + self.nl + body, owner)]

    def _list_items(self, o: int, c: int) -> list[str]:
        t = self.t
        out: list[str] = []
        i = o + 1
        while True:
            while i < c and t.kind[i] in (_NL, _COMMENT):
                i += 1
            if i >= c:
                return out
            after, hi = _expr_end(t, i, c, commas=True, newlines=False)
            value = _string_value(t, i, hi)
            out.append(value if value is not None else _normal(t, i, hi))
            i = after + 1

    def _extend_list(self, o: int, c: int, forms: list[str], owner: int) -> list[_Splice] | str:
        t = self.t
        add = ", ".join(forms)
        last = c - 1
        while last > o and t.kind[last] in (_NL, _COMMENT):
            last -= 1
        if last == o:  # an empty list
            if t.tline(o) == t.tline(c) and not any(t.kind[k] == _COMMENT for k in range(o + 1, c)):
                return [_Splice(t.end[o], t.start[c], add, owner)]
            indent = t.indent_at(t.start[o]) + self._unit(t.indent_at(t.start[o]))
            return [_Splice(t.end[o], t.end[o], self.nl + indent + add + ",", owner)]
        comma = t.is_op(last, ",")
        elem_last = last - 1 if comma else last
        while comma and elem_last > o and t.kind[elem_last] in (_NL, _COMMENT):
            elem_last -= 1
        if t.tline(o) == t.tline(c) or t.tline(last) == t.tline(c):
            # `[a, b]`, `[a, b,]`, or a closing bracket on the last element's line
            if comma:
                return [_Splice(t.end[last], t.end[last], " " + add + ",", owner)]
            return [_Splice(t.end[last], t.end[last], ", " + add, owner)]
        # one element a line: a new line after the last one, in the same style
        nl_tok = last + 1
        while nl_tok < c and t.kind[nl_tok] == _COMMENT:
            nl_tok += 1
        if t.kind[nl_tok] != _NL:
            return "the end of the ignore_changes list is not where it can be found with certainty"
        indent = t.indent_at(t.start[elem_last]) if t.tline(elem_last) != t.tline(o) else \
            t.indent_at(t.start[o]) + self._unit(t.indent_at(t.start[o]))
        out = [_Splice(t.start[nl_tok], t.start[nl_tok], self.nl + indent + add + ("," if comma else ""), owner)]
        if not comma:
            out.insert(0, _Splice(t.end[last], t.end[last], ",", owner))
        return out

    def _insert_lines(self, block: _Block, lines: list[str], owner: int) -> list[_Splice] | str:
        """Lines at the end of a block's body (`\\x00` at a line's start: one level deeper). A
        one-line block is opened up into a multi-line one."""
        t = self.t
        o, c = block.open, block.close
        head = t.indent_at(t.start[block.first])
        if t.tline(o) == t.tline(c):
            inner = head + self._unit(head)
            body = self._lines(lines, inner, self._unit(head))
            items = [k for k in range(o + 1, c) if t.kind[k] != _NL]
            if not items:
                return [_Splice(t.end[o], t.start[c], self.nl + body + head, owner)]
            first, last = items[0], items[-1]
            return [_Splice(t.end[o], t.start[first], self.nl + inner, owner),
                    _Splice(t.end[last], t.start[c], self.nl + body + head, owner)]
        if not t.first_on_line(c):
            return (f"the closing brace of the block at line {t.tline(block.first)} shares its line "
                    "with other code")
        inner = ""
        firsts = [it.first if isinstance(it, _Block) else it.key for it in block.items]
        for k in firsts:
            if t.first_on_line(k):
                inner = t.indent_at(t.start[k])
                break
        if not inner:
            inner = head + self._unit(head)
        unit = inner[len(head):] if inner.startswith(head) and len(inner) > len(head) else self._unit(head)
        at = t.line_start(t.start[c])
        return [_Splice(at, at, self._lines(lines, inner, unit), owner)]

    def _lines(self, lines: list[str], indent: str, unit: str) -> str:
        return "".join((indent + unit + ln[1:] if ln.startswith("\x00") else indent + ln) + self.nl
                       for ln in lines)

    def _unit(self, indent: str) -> str:
        return "\t" if "\t" in indent else self.unit


def _splice_content(lit: _Tokens) -> str | None:
    """The text a literal becomes inside a template: a quoted string's raw content, a number or
    a bool as written; None for anything else."""
    n = len(lit)
    if n and lit.kind[0] == _OQUOTE and lit.match[0] == n - 1 and all(k == _LIT for k in lit.kind[1:n - 1]):
        return "".join(lit.tok(k) for k in range(1, n - 1))
    if n == 1 and (lit.kind[0] == _NUMBER or lit.tok(0) in ("true", "false")):
        return lit.tok(0)
    if n == 2 and lit.is_op(0, "-") and lit.kind[1] == _NUMBER:
        return "-" + lit.tok(1)
    return None


def _within(args: list[_Arg], name: str) -> list[_Arg]:
    """The arguments inside an element or a nested block (not the top-level block) called `name`.
    Each owner and block is looked at once, however many arguments share it."""
    owners: dict[int, bool] = {}
    blocks: dict[int, bool] = {}

    def in_block(block: _Block | None) -> bool:
        path: list[_Block] = []
        found = False
        while block is not None and block.parent is not None:
            if id(block) in blocks:
                found = blocks[id(block)]
                break
            path.append(block)
            if block.type == name:
                found = True
                break
            block = block.parent
        for b in path:
            blocks[id(b)] = found
        return found

    def inside(arg: _Arg) -> bool:
        path: list[_Arg] = []
        owner = arg.owner
        found: bool | None = None
        while owner is not None:
            if id(owner) in owners:
                found = owners[id(owner)]
                break
            path.append(owner)
            if owner.name == name:
                found = True
                break
            owner = owner.owner
        if found is None:
            found = in_block(arg.block)
        for o in path:
            owners[id(o)] = found
        return found

    return [a for a in args if inside(a)]


def _descendants(arg: _Arg) -> list[_Arg]:
    out: list[_Arg] = []
    stack = list(arg.children)
    while stack:
        a = stack.pop()
        out.append(a)
        stack.extend(a.children)
    return out


def apply(text: str, edits: Iterable[EditLike]) -> EditResult:
    """Make the edits in one file's text. Line numbers refer to `text`; all the edits are located
    in it first, then made together. Each edit gets an `Outcome`: `applied`, `in_place` (the
    file already says it: applying the result again changes nothing) or `refused`, with a reason
    a user can read. The same edit given twice is made once."""
    specs = [e if isinstance(e, EditSpec) else EditSpec.of(e) for e in edits]
    outcomes: list[Outcome | None] = [None] * len(specs)
    try:
        tree = _parse(_scan(text))
    except _ScanError as err:
        line = bisect.bisect_right(_line_starts(text), err.offset)
        reason = f"the file cannot be read with certainty: line {line}: {err.message}"
        return EditResult(text, [Outcome(s, "refused", reason) for s in specs])
    ed = _Editor(text, tree)
    splices: list[_Splice] = []
    first_of: dict[EditSpec, int] = {}
    ignores: dict[int, list[tuple[int, str, str]]] = {}
    for idx, spec in enumerate(specs):
        if spec in first_of:
            continue
        first_of[spec] = idx
        if spec.action == REPLACE:
            status, reason, found = ed.replace(spec, idx)
            outcomes[idx] = Outcome(spec, status, reason)
            splices.extend(found)
        elif spec.action == IGNORE:
            form = _reference_form(spec.text)
            if form is None:
                outcomes[idx] = Outcome(spec, "refused", f"`{spec.text}` is not an attribute name")
                continue
            ignores.setdefault(spec.line, []).append((idx, spec.text, form))
        elif spec.action == SET:
            status, reason, found = ed.set_argument(spec, idx)
            outcomes[idx] = Outcome(spec, status, reason)
            splices.extend(found)
        elif spec.action == APPEND:
            status, reason, found = ed.append_block(spec, idx)
            outcomes[idx] = Outcome(spec, status, reason)
            splices.extend(found)
        else:
            outcomes[idx] = Outcome(spec, "refused", f"unknown action {spec.action!r}")
    members: dict[int, int] = {}  # edit -> the edit owning the splices made for it too
    for line, attrs in ignores.items():
        results, found = ed.ignore(line, attrs)
        for idx, (status, reason) in results.items():
            outcomes[idx] = Outcome(specs[idx], status, reason)
            if found:
                members[idx] = found[0].owner
        splices.extend(found)
    # edits whose splices overlap: the one given first is made, the other refused
    groups: dict[int, list[_Splice]] = {}
    for sp in splices:
        groups.setdefault(sp.owner, []).append(sp)
    kept: list[_Splice] = []
    for owner in sorted(groups):
        clash = next((k for sp in groups[owner] for k in kept if _overlap(k, sp)), None)
        if clash is None:
            kept.extend(groups[owner])
            continue
        other = specs[clash.owner]
        reason = f"it overlaps the {other.action} edit at line {other.line}, made in the same run"
        for idx, o in enumerate(outcomes):
            if o is not None and o.status == "applied" and (idx == owner or members.get(idx) == owner):
                outcomes[idx] = Outcome(o.edit, "refused", reason)
    kept.sort(key=lambda sp: (sp.start, sp.end, sp.owner))
    out: list[str] = []
    pos = 0
    for s in kept:
        out.append(text[pos:s.start])
        out.append(s.new)
        pos = s.end
    out.append(text[pos:])
    new = "".join(out)
    shifts: list[tuple[int, int]] = []
    starts = _line_starts(text)
    added = 0
    for sp in kept:
        added += sp.new.count("\n") - text.count("\n", sp.start, sp.end)
        line = bisect.bisect_right(starts, sp.end)  # the line where the splice ends
        after = line if sp.start == sp.end == starts[line - 1] else line + 1  # lines after it move
        shifts.append((after, added))
    if kept:
        try:
            _parse(_scan(new))
        except _ScanError as err:  # never expected: a safety net, not a code path
            line = bisect.bisect_right(_line_starts(new), err.offset)
            reason = f"the edited file would not read back (line {line}: {err.message}); nothing was changed"
            return EditResult(text, [Outcome(o.edit, "refused", reason) if o.status == "applied" else o
                                     for o in _fill(outcomes, specs, first_of)])
    filled = _fill(outcomes, specs, first_of)
    new_starts = _line_starts(new)
    for idx, o in enumerate(filled):
        at = ed.anchors.get(first_of[o.edit])
        if o.edit.action == APPEND and o.status != "refused":
            filled[idx] = dataclasses.replace(o, new_line=o.edit.line)  # the end of the file: no line to follow
        elif at is not None and o.status != "refused":
            moved = at + sum(len(sp.new) - (sp.end - sp.start) for sp in kept if sp.end <= at)
            filled[idx] = dataclasses.replace(o, new_line=bisect.bisect_right(new_starts, moved))
    return EditResult(new, filled, tuple(shifts))


def _overlap(a: _Splice, b: _Splice) -> bool:
    """Whether two splices touch the same text (two insertions at one place: their order is not
    certain, so they overlap too)."""
    if a.start == a.end == b.start == b.end:
        return True
    return a.start < b.end and b.start < a.end


def _fill(outcomes: list[Outcome | None], specs: list[EditSpec], first_of: dict[EditSpec, int]) -> list[Outcome]:
    out: list[Outcome] = []
    for idx, o in enumerate(outcomes):
        if o is None:
            first = outcomes[first_of[specs[idx]]]
            assert first is not None
            o = Outcome(specs[idx], first.status, first.reason)
        out.append(o)
    return out


# ---------------------------------------------------------------------------------------------
# Diffs and files

def _split_lines(text: str) -> list[str]:
    """Lines as `git` and `patch` see them: split at `\\n` only, each keeping its ending."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


_HUNK = re.compile(r"@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def unified_diff(old: str, new: str, path: str, context: int = 3) -> str:
    """A unified diff from `old` to `new` with `a/PATH` and `b/PATH` headers, for `git apply` or
    `patch -p1` run in the folder `path` is relative to. Lines keep their endings (CRLF too);
    a last line without a newline gets `\\ No newline at end of file`. Empty when equal."""
    if old == new:
        return ""
    path = path.replace("\\", "/")
    if any(c in path for c in "\t\n\r") or not path or path.startswith("/"):
        raise HclEditError(f"cannot name {path!r} in a diff: give a relative path without tabs or newlines")
    a, b = _split_lines(old), _split_lines(new)
    # diff only the window around the changed lines: difflib is not linear on big files
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    lo = max(0, head - context)
    a_hi, b_hi = len(a) - max(0, tail - context), len(b) - max(0, tail - context)
    # a name with a space ends with a tab, which both `git apply` and GNU `patch` read as its end
    end = "\t" if " " in path else ""
    out: list[str] = []
    for line in difflib.unified_diff(a[lo:a_hi], b[lo:b_hi], f"a/{path}{end}", f"b/{path}{end}", n=context):
        if line.startswith(("--- ", "+++ ")) and len(out) < 2:
            pass
        elif line.startswith("@@"):
            m = _HUNK.match(line)
            assert m is not None
            line = f"@@ -{int(m.group(1)) + lo}{m.group(2) or ''} +{int(m.group(3)) + lo}{m.group(4) or ''} @@\n"
        elif not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def read_source(path: str | os.PathLike[str]) -> str:
    """A `.tf` file's text exactly as stored (CRLF, byte-order mark and all)."""
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise HclEditError(f"{path} is not UTF-8 text (byte {err.start}): Terraform would not read it either") from err
    except OSError as err:
        raise HclEditError(f"cannot read {path}: {err.strerror}") from err


def write_source(path: str | os.PathLike[str], text: str) -> None:
    """Replace a file's text in one step (a temporary file renamed over it), keeping its mode."""
    target = Path(path)
    try:
        mode = target.stat().st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8"))
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise HclEditError(f"cannot write {path}: {err.strerror}") from err
