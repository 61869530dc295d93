"""Parse resource instance addresses such as `module.app["blue"].aws_instance.this[0]`.

Instance keys may contain `.`, `]` and `"`, so the address is read with a small scanner, not
split on dots.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModuleStep:
    name: str
    key: int | str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    modules: tuple[ModuleStep, ...]
    mode: str  # "managed" or "data"
    type: str
    name: str
    key: int | str | None = None

    @property
    def module_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modules)

    @property
    def module_address(self) -> str:
        """The module instance address, keys included ("" for the root module)."""
        return ".".join(_step_text(m) for m in self.modules)

    @property
    def local(self) -> str:
        """The resource address inside its module, without instance key."""
        base = f"{self.type}.{self.name}"
        return base if self.mode == "managed" else f"data.{base}"


def _step_text(step: ModuleStep) -> str:
    return f"module.{step.name}" + (f"[{format_key(step.key)}]" if step.key is not None else "")


def format_key(key: int | str) -> str:
    if isinstance(key, int):
        return str(key)
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tokens(text: str) -> list[str | tuple[int | str]]:
    """Split into names and one-element tuples holding bracket keys."""
    out: list = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == ".":
            i += 1
        elif c == "[":
            i += 1
            if i < n and text[i] == '"':
                i += 1
                buf = []
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(text[i])
                    i += 1
                i += 1  # closing quote
                out.append(("".join(buf),))
            else:
                j = text.find("]", i)
                j = n if j < 0 else j
                raw = text[i:j].strip()
                out.append((int(raw) if raw.lstrip("-").isdigit() else raw,))
                i = j
            while i < n and text[i] != "]":
                i += 1
            i += 1
        else:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            out.append(text[i:j])
            i = j
    return out


_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_KEY = r'\[(?:"((?:[^"\\]|\\.)*)"|(-?[0-9]+))\]'
# The usual address: names of plain identifier characters, keys that are a quoted string or an
# integer. Anything else (and the two spellings this pattern would read otherwise: `data.x`,
# `module.x`) takes the scanner below, which gives the same result for what both read.
_PLAIN = re.compile(
    rf'((?:module\.{_NAME}(?:\[(?:"(?:[^"\\]|\\.)*"|-?[0-9]+)\])?\.)*)(data\.)?({_NAME})\.({_NAME})(?:{_KEY})?',
    re.S)
_MODULE_PREFIXES: dict[str, tuple[ModuleStep, ...]] = {}


def parse_address(text: str) -> Address | None:
    """Parse a resource (instance) address; None when it is not one.

    A plan has 100,000 addresses and a handful of module instances: the usual shape is read
    with one regular expression, its module part once per distinct prefix."""
    m = _PLAIN.fullmatch(text)
    if m is None:
        return _parse_address(text)
    prefix, data, rtype, rname, quoted, number = m.groups()
    if data is None and rtype in ("data", "module"):
        return _parse_address(text)
    modules = _MODULE_PREFIXES.get(prefix) if prefix else ()
    if modules is None:
        found = _parse_address(prefix + "x.y")
        if found is None:  # pragma: no cover - the pattern only lets well-formed prefixes through
            return _parse_address(text)
        modules = found.modules
        if len(_MODULE_PREFIXES) < 65536:
            _MODULE_PREFIXES[prefix] = modules
    if quoted is not None:
        key: int | str | None = _UNESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
    elif number is not None:
        key = int(number)
    else:
        key = None
    # Types and names repeat across a plan's 100,000 addresses: one string each, not one per address.
    return Address(modules, "data" if data else "managed", _intern(rtype), _intern(rname), key)


_intern = sys.intern
_UNESCAPE = re.compile(r"\\(.)", re.S)


def _parse_address(text: str) -> Address | None:
    """The scanner: any address, keys holding `.`, `]`, `"` and escapes included."""
    toks = _tokens(text)
    modules: list[ModuleStep] = []
    i = 0
    while i + 1 < len(toks) and toks[i] == "module":
        name = toks[i + 1]
        if not isinstance(name, str):
            break
        i += 2
        key = None
        if i < len(toks) and isinstance(toks[i], tuple):
            key = toks[i][0]
            i += 1
        modules.append(ModuleStep(name, key))
    mode = "managed"
    if i < len(toks) and toks[i] == "data":
        mode = "data"
        i += 1
    if i + 1 >= len(toks):
        return None
    rtype, rname = toks[i], toks[i + 1]
    if not isinstance(rtype, str) or not isinstance(rname, str):
        return None
    i += 2
    key = None
    if i < len(toks) and isinstance(toks[i], tuple):
        key = toks[i][0]
        i += 1
    if i != len(toks):
        return None
    return Address(tuple(modules), mode, rtype, rname, key)
