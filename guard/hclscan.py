"""A linear text scan of HCL (and of Terraform's JSON syntax) that knows strings, heredocs,
template interpolations and comments, without parsing expressions.

It finds where each top-level block of a file starts and ends, and the bracket depth at the start
of every line of a block, so that python-hcl2 (slow: a few thousand lines a second) parses only
the text of the one block a chain passes through, and an attribute's line is found at the right
nesting level. Broken input never raises: the scan stops at the end of the text, and a file that
nests deeper than MAX_NESTING is reported as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NESTING = 256  # brackets, strings and interpolations inside each other

# In code: comments, a string, a heredoc opener (`<<EOT` / `<<-EOT` and its line end), brackets, newlines.
_CODE = re.compile(r'#[^\n]*|//[^\n]*|/\*|"|<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n|[{}()\[\]\n]')
# In a quoted string: an escape, an escaped `${` / `%{`, an interpolation, the closing quote, a
# newline (not allowed in a quoted string: the string ends there, so one bad line does not swallow the file).
_STRING = re.compile(r'\\.|\$\$\{|%%\{|[$%]\{|"|\n', re.DOTALL)
_HEREDOC_CACHE: dict[str, re.Pattern[str]] = {}

_HEADER = re.compile(
    r'\s*([A-Za-z_][\w-]*)((?:\s*(?:"(?:[^"\\\n]|\\.)*"|[A-Za-z_][\w-]*))*)\s*\Z')
_LABEL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|([A-Za-z_][\w-]*)')

CODE, STRING, HEREDOC = 0, 1, 2


def _heredoc_end(marker: str) -> re.Pattern[str]:
    pat = _HEREDOC_CACHE.get(marker)
    if pat is None:
        pat = re.compile(r"\$\$\{|%%\{|[$%]\{|^[ \t]*" + re.escape(marker) + r"[ \t]*\r?$", re.MULTILINE)
        if len(_HEREDOC_CACHE) < 512:
            _HEREDOC_CACHE[marker] = pat
    return pat


class TooDeep(Exception):
    """The text nests brackets, strings or interpolations deeper than MAX_NESTING."""


@dataclass(slots=True)
class Event:
    kind: str  # "open", "close" (a bracket in code), "nl" (a newline in code)
    pos: int
    depth: int  # bracket depth after the event


def events(text: str, start: int = 0, end: int | None = None):
    """Brackets and newlines that are code (not in strings, heredocs or comments), in order.

    Interpolations (`${ ... }`) count as one bracket level. Raises TooDeep past MAX_NESTING.
    """
    end = len(text) if end is None else end
    pos = start
    depth = 0
    mode = CODE
    heredoc: re.Pattern[str] | None = None
    # What to go back to: (mode, heredoc pattern, depth at which a `}` closes an interpolation, or -1).
    stack: list[tuple[int, re.Pattern[str] | None, int]] = []
    while pos < end:
        if mode == CODE:
            m = _CODE.search(text, pos, end)
            if m is None:
                return
            tok = m.group()
            at = m.start()
            pos = m.end()
            c = tok[0]
            if c in "{([":
                depth += 1
                if depth > MAX_NESTING:
                    raise TooDeep(at)
                yield Event("open", at, depth)
            elif c in "})]":
                if c == "}" and stack and stack[-1][2] == depth:
                    mode, heredoc, _ = stack.pop()
                    depth -= 1
                    continue
                depth = max(0, depth - 1)
                yield Event("close", at, depth)
            elif c == "\n":
                yield Event("nl", at, depth)
            elif c == '"':
                stack.append((CODE, None, -1))
                mode = STRING
            elif tok.startswith("/*"):
                close = text.find("*/", pos, end)
                pos = end if close < 0 else close + 2
            elif tok.startswith("<<"):
                stack.append((CODE, None, -1))
                mode, heredoc = HEREDOC, _heredoc_end(m.group(1))
            # else: a `#` or `//` comment up to (not including) the line end
            if len(stack) > MAX_NESTING:
                raise TooDeep(at)
        elif mode == STRING:
            m = _STRING.search(text, pos, end)
            if m is None:
                return
            tok = m.group()
            pos = m.end()
            if tok == '"':
                mode, heredoc, _ = stack.pop()
            elif tok == "\n":
                mode, heredoc, _ = stack.pop()
                pos = m.start()  # the newline is code again
            elif tok in ("${", "%{"):
                depth += 1
                stack.append((STRING, None, depth))
                mode = CODE
                if depth > MAX_NESTING or len(stack) > MAX_NESTING:
                    raise TooDeep(m.start())
        else:  # HEREDOC
            assert heredoc is not None
            m = heredoc.search(text, pos, end)
            if m is None:
                return
            tok = m.group()
            pos = m.end()
            if tok in ("${", "%{"):
                depth += 1
                stack.append((HEREDOC, heredoc, depth))
                mode = CODE
                if depth > MAX_NESTING or len(stack) > MAX_NESTING:
                    raise TooDeep(m.start())
            elif not tok.startswith(("$$", "%%")):
                mode, heredoc, _ = stack.pop()


@dataclass(slots=True)
class Block:
    """A top-level block: `kind "label" "label" { ... }`."""

    kind: str
    labels: tuple[str, ...]
    start: int  # offset of the block type's first character
    end: int  # offset just after the closing `}` (the end of the text when it never closes)
    line: int  # 1-based line of `start`
    end_line: int
    closed: bool


def _unescape(label: str) -> str:
    return re.sub(r"\\(.)", r"\1", label) if "\\" in label else label


def parse_header(text: str) -> tuple[str, tuple[str, ...]] | None:
    """`resource "aws_instance" "app"` -> ("resource", ("aws_instance", "app"))."""
    m = _HEADER.match(text)
    if m is None:
        return None
    labels = tuple(b or _unescape(a) for a, b in _LABEL.findall(m.group(2)))
    return m.group(1), labels


def top_level_blocks(text: str) -> list[Block]:
    """Every top-level block of an HCL file, in order. Raises TooDeep."""
    blocks: list[Block] = []
    stmt = 0  # where the current top-level statement starts
    counted = [1, 0]  # line number at offset counted[1]: lines are counted forwards only

    def line_of(pos: int) -> int:
        counted[0] += text.count("\n", counted[1], pos)
        counted[1] = pos
        return counted[0]

    header: tuple[str, tuple[str, ...]] | None = None
    head_start = head_line = 0
    for ev in events(text):
        if ev.depth == 0 and ev.kind == "nl":
            stmt = ev.pos + 1
        elif ev.kind == "open" and ev.depth == 1:
            header = None
            if text[ev.pos] == "{":
                head = text[stmt:ev.pos]
                header = parse_header(head) or parse_header(_COMMENTS.sub(" ", head))
                if header is not None:
                    head_start = stmt + len(head) - len(head.lstrip())
                    head_line = line_of(head_start)
        elif ev.kind == "close" and ev.depth == 0:
            if header is not None:
                blocks.append(Block(header[0], header[1], head_start, ev.pos + 1, head_line, line_of(ev.pos), True))
            header = None
            stmt = ev.pos + 1
    if header is not None:  # never closed: up to the end of the text
        blocks.append(Block(header[0], header[1], head_start, len(text), head_line, line_of(len(text)), False))
    return blocks


_COMMENTS = re.compile(r"/\*.*?\*/|#[^\n]*|//[^\n]*", re.DOTALL)


def line_depths(text: str, start: int, end: int) -> list[int | None]:
    """The bracket depth at the start of each line of text[start:end] (the first line starts at
    depth 0), or None for a line that starts inside a string, heredoc or comment. Raises TooDeep."""
    depths: list[int | None] = [0]
    cursor = start
    for ev in events(text, start, end):
        if ev.kind == "nl":
            depths.extend([None] * text.count("\n", cursor, ev.pos))
            depths.append(ev.depth)
            cursor = ev.pos + 1
    depths.extend([None] * text.count("\n", cursor, end))
    return depths
