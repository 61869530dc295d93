"""The one sanitiser for plan text: every string that comes from a plan, a config or a file name
passes through here before any format shows it.

Plan text is data. A `for_each` key, a value, an `action_reason`, an unknown action verb, a note
or a file name can hold anything: a newline followed by `::add-mask::`, a CR that makes a CI log
viewer redraw the line as `::warning::`, ESC sequences that recolour or retitle a terminal, BEL,
bidirectional overrides that make text read differently than it is, GitHub's old `##[command]`.

- `clean(text)`: keeps newlines and shows every other control or invisible formatting character
  as an escape (`\\x1b`, `\\u202e`); no line can start a runner command (`::` at a line start,
  after spaces) and `##[` is broken apart (`#`, a zero-width joiner, `#[`).
- `one_line(text)`: `clean`, with newlines shown as `\\n` too: for fields that must stay on one
  line (an address, a value, a table cell).
- `defuse_log(document, ...)`: the last pass over a whole report that may end up in a CI log. It
  applies the same two runner rules to every line, with a replacement each format reads back as
  the same text (a zero-width joiner in text, `&#35;` in XML, `\\u0023` in JSON).

Formats add their own escaping on top (HTML entities, workflow-command `%0A`, XML), never instead.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"  # zero-width joiner: invisible, and splits a token a runner or renderer would act on
LEGACY_COMMAND = "##["

# C0 (but newline) and C1 controls, DEL, line and paragraph separators, bidirectional controls,
# the byte-order mark, lone surrogates and the two XML non-characters.
_WIDE = ("\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
         "\ud800-\udfff\ufffe\uffff")
_UNSAFE = re.compile(f"[\x00-\x09\x0b-\x1f{_WIDE}]")
_UNSAFE_JSON = re.compile(f"[{_WIDE}]")  # JSON writers escape the C0 controls themselves
# A runner trims every kind of Unicode white space before it looks for `::`.
_LINE_COMMAND = re.compile(r"^([^\S\n]*):(?=:)", re.MULTILINE)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def defuse_log(text: str, hash_sub: str = "#" + ZWJ + "#[", colon_sub: str = ":" + ZWJ) -> str:
    """No line of `text` can act as a CI runner command.

    `##[` becomes `hash_sub`; a `:` that starts a line's `::` (after any white space) becomes
    `colon_sub`. Each format passes replacements that read back as the same text.
    """
    if LEGACY_COMMAND in text:
        text = text.replace(LEGACY_COMMAND, hash_sub)
    if "::" in text:
        text = _LINE_COMMAND.sub(lambda m: m.group(1) + colon_sub, text)
    return text


def defuse_json(text: str) -> str:
    """A JSON document (json, sarif, codequality) that is safe to print to a CI log.

    Strings keep their values exactly; only their encoding changes. JSON writers escape C0
    controls; here the other unsafe characters are written as `\\uXXXX` escapes too (they
    occur only inside strings), and `##[` as `#\\u0023[`. No line of indented JSON starts with
    `::`, since strings keep their newlines escaped.
    """
    if not text.isascii() or "\x7f" in text:  # DEL is the one ASCII character of the class
        text = _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text.replace(LEGACY_COMMAND, "#\\u0023[") if LEGACY_COMMAND in text else text


def defuse_json_bytes(data: bytes) -> bytes:
    """`defuse_json` for a UTF-8 document: the same bytes as `defuse_json(data.decode()).encode()`,
    without a copy of the document when it is ASCII without DEL (the usual case)."""
    if not data.isascii() or b"\x7f" in data:
        return defuse_json(data.decode("utf-8")).encode("utf-8")
    legacy = LEGACY_COMMAND.encode()
    return data.replace(legacy, b"#\\u0023[") if legacy in data else data


def clean(text: str) -> str:
    """Plan text that may span lines: unsafe characters as escapes, no line a runner command."""
    return defuse_log(_UNSAFE.sub(_escape, text))


def one_line(text: str) -> str:
    """Plan text on one line: `clean`, and newlines shown as `\\n`."""
    return clean(text.replace("\n", "\\n"))


def shorten(text: str, limit: int | None) -> str:
    """Cut long text (a huge value) to `limit` characters, saying so with an ellipsis."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "\u2026"


_FIELDS: dict[tuple[str, int | None], str] = {}


def field(text: str | None, limit: int | None = None) -> str:
    """Plan text for a one-line field, cut to `limit` characters: `one_line` then `shorten`.

    A report asks for the same fields again and again (the links, fixes and titles every finding
    of a group shares: some 40 calls per finding): short ones are remembered."""
    text = text or ""
    if len(text) > 512:
        return shorten(one_line(text), limit)
    key = (text, limit)
    found = _FIELDS.get(key)
    if found is None:
        if len(_FIELDS) >= 16384:
            _FIELDS.clear()
        found = _FIELDS[key] = shorten(one_line(text), limit)
    return found
