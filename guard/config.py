"""The config file: `.replace-guard.toml`, or `[tool.replace-guard]` in `pyproject.toml`.

The file is looked for in the folder the `.tf` sources are read from and then in its parents, up
to the repository's root (the folder holding `.git`). It is validated against the JSON schema that
ships in the package and then against what the schema cannot know: the rule ids the registry has,
and allow addresses written in Terraform's address syntax. Every error names the file, the line
and the key, and suggests the nearest valid key or rule id.

Allow entries match resource instance addresses step by step, the way Terraform writes them:
- a pattern is a dot-separated list of names, each optionally followed by one `[KEY]`;
- `*` (any run of characters) and `?` (one character) match inside one name, never across a `.`
  or into a key: `aws_instance.app*` matches `aws_instance.app_db`, not `module.x.aws_instance.app`;
- a key is literal: `["blue"]` matches only the key "blue", `[0]` only the index 0 (`["0"]` is the
  string key "0", as in Terraform); `[*]` matches any key;
- a step without a key matches every instance: `aws_instance.app` matches `aws_instance.app`,
  `aws_instance.app[0]` and `aws_instance.app["blue"]`, and `module.batch.aws_instance.worker`
  matches it inside every instance of `module.batch`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from .errors import InputError
from .findings import Finding

CONFIG_NAMES = (".replace-guard.toml", "pyproject.toml")
PYPROJECT_SECTION = ("tool", "replace-guard")


# -- Terraform address patterns -------------------------------------------------------------------

class _AnyKey:
    """`[*]` in a pattern."""

    def __repr__(self) -> str:
        return "[*]"


ANY_KEY = _AnyKey()
# A key as written: ("int", "0") or ("str", 'blue') (the text between the quotes, escapes kept);
# None when the step has no key.
Key = tuple[str, str] | _AnyKey | None
Step = tuple[str, Key]

_PATTERN_NAME = re.compile(r"[A-Za-z0-9_*?-]+")


class AddressSyntaxError(ValueError):
    pass


def _scan_steps(text: str, pattern: bool) -> list[Step]:
    """Split a (pattern) address into (name, key) steps; AddressSyntaxError when malformed.

    Plan addresses are scanned leniently (a name is anything up to `.` or `[`); patterns strictly.
    """
    steps: list[Step] = []
    i, n = 0, len(text)
    if n == 0:
        raise AddressSyntaxError("is empty")
    while True:
        j = i
        while j < n and text[j] not in ".[":
            j += 1
        name = text[i:j]
        if not name:
            raise AddressSyntaxError(f"has an empty name at character {i + 1}")
        if pattern and not _PATTERN_NAME.fullmatch(name):
            bad = next(c for c in name if not _PATTERN_NAME.fullmatch(c))
            raise AddressSyntaxError(f"has {bad!r} in the name {name!r} (names take letters, digits, _ and -, "
                                     f"and * or ? as wildcards)")
        key: Key = None
        i = j
        if i < n and text[i] == "[":
            key, i = _scan_key(text, i + 1, pattern)
        steps.append((name, key))
        if i == n:
            return steps
        if text[i] != ".":
            raise AddressSyntaxError(f"has {text[i]!r} after a key at character {i + 1}; expected `.`")
        i += 1
        if i == n:
            raise AddressSyntaxError("ends with `.`")


def _scan_key(text: str, i: int, pattern: bool) -> tuple[Key, int]:
    """The key after `[` at i; returns the key and the index after `]`."""
    n = len(text)
    if i < n and text[i] == '"':
        j = i + 1
        while j < n and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        if j >= n:
            raise AddressSyntaxError("has a key whose quote is not closed")
        raw = text[i + 1:j]
        j += 1
        if j >= n or text[j] != "]":
            raise AddressSyntaxError("has a key that is not closed with `]`")
        return ("str", raw), j + 1
    close = text.find("]", i)
    if close < 0:
        raise AddressSyntaxError("has a `[` that is not closed")
    raw = text[i:close].strip()
    if pattern and raw == "*":
        return ANY_KEY, close + 1
    if raw.isdigit():
        return ("int", str(int(raw))), close + 1
    if pattern:
        raise AddressSyntaxError(f"has the key [{raw}]: write a number ([0]), a quoted string ([\"blue\"]) "
                                 "or [*] for any key")
    return ("str", raw), close + 1


def _name_regex(glob: str) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob]
    return re.compile("".join(parts), re.DOTALL)


class AddressPattern:
    """An allow entry's address, matched against resource instance addresses (see the module doc)."""

    def __init__(self, text: str):
        self.text = text
        self.steps = _scan_steps(text, pattern=True)
        self._names = [_name_regex(name) for name, _ in self.steps]

    def matches(self, address: str) -> bool:
        steps = _address_steps(address)
        if steps is None:
            return address == self.text
        if len(steps) != len(self.steps):
            return False
        for regex, (_, want), (name, key) in zip(self._names, self.steps, steps, strict=True):
            if not regex.fullmatch(name):
                return False
            if want is None:
                continue
            if want is ANY_KEY:
                if key is None:
                    return False
            elif want != key:
                return False
        return True


@functools.lru_cache(maxsize=65_536)
def _address_steps(address: str) -> tuple[Step, ...] | None:
    try:
        return tuple(_scan_steps(address, pattern=False))
    except AddressSyntaxError:
        return None


# -- the model ------------------------------------------------------------------------------------

class AllowEntry(BaseModel):
    address: str
    rule: str | None = None
    reason: str
    expires: dt.date | None = None
    source: str = "config"  # the config file as shown to the user, or "--allow"
    line: int | None = None  # the entry's line in the config file
    _pattern: AddressPattern | None = PrivateAttr(default=None)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    @property
    def pattern(self) -> AddressPattern:
        if self._pattern is None:
            self._pattern = AddressPattern(self.address)
        return self._pattern

    def describe(self) -> str:
        return self.address + (f" ({self.rule})" if self.rule else "")

    def matches(self, finding: Finding) -> bool:
        return (self.rule is None or self.rule == finding.rule) and self.pattern.matches(finding.address)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today


class Config(BaseModel):
    path: str | None = None  # the config file as shown to the user
    file: str | None = None  # its path on disk
    fail_on: str | None = None
    severity: dict[str, str] = Field(default_factory=dict)
    stateful_types: list[str] = Field(default_factory=list)
    allow: list[AllowEntry] = Field(default_factory=list)


@dataclass
class AllowResult:
    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    expired: list[AllowEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def apply_allows(findings: Iterable[Finding], allows: Sequence[AllowEntry], today: dt.date) -> AllowResult:
    """Split findings into kept and allowed; say which entries expired and which matched nothing.

    The first active entry that matches a finding allows it; every entry that matches some finding
    counts as used, so only entries that match nothing are reported as such.
    """
    out = AllowResult()
    out.expired = [a for a in allows if a.expired(today)]
    active = [a for a in allows if not a.expired(today)]
    used = [False] * len(active)
    for finding in findings:
        first: AllowEntry | None = None
        for i, entry in enumerate(active):
            if entry.matches(finding):
                used[i] = True
                first = first or entry
        if first is None:
            out.kept.append(finding)
        else:
            finding.allowed_by = f"{first.where}: {first.reason}"
            out.suppressed.append(finding)
    for entry in out.expired:
        out.notes.append(f"{entry.where}: allow entry for {entry.describe()} expired on {entry.expires}; "
                         "it no longer applies")
    for entry, was_used in zip(active, used, strict=True):
        if not was_used:
            out.notes.append(f"{entry.where}: allow entry for {entry.describe()} matched nothing; "
                             "remove it, or fix its address or rule")
    return out


# -- validation -----------------------------------------------------------------------------------

def _schema() -> dict[str, Any]:
    text = resources.files("guard").joinpath("schemas/config.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def rule_ids() -> list[str]:
    from .rules import RULES_BY_ID

    return sorted(RULES_BY_ID)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


KeyPath = list[str | int]


def key_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _nearest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None


def _nearest_rule(word: str, ids: list[str]) -> str | None:
    """The rule id nearest to a mistyped one: by spelling, then by number."""
    word = word.strip().upper()
    scored = [(difflib.SequenceMatcher(None, word, rid).ratio(), rid) for rid in ids]
    scored = [(score, rid) for score, rid in scored if score >= 0.8]
    if not scored:
        return None
    best = max(score for score, _ in scored)
    digits = "".join(c for c in word if c.isdigit())
    number = int(digits) if digits else 0
    return min((rid for score, rid in scored if score == best), key=lambda rid: abs(int(rid[3:]) - number))


def _rule_fix(rule: str) -> str:
    ids = rule_ids()
    near = _nearest_rule(rule, ids)
    head = f"did you mean {near}? " if near else ""
    return f"{head}the rules are {', '.join(ids)} (`replace-guard rules` lists them)"


class ConfigProblem(Exception):
    def __init__(self, path: KeyPath, problem: str, fix: str):
        super().__init__(problem)
        self.path = path
        self.problem = problem
        self.fix = fix


_TYPE_WORDS = {"object": "a table", "array": "a list", "string": "a string", "integer": "a number"}


def _schema_problem(err: Any) -> ConfigProblem:
    path: KeyPath = list(err.absolute_path)
    validator = err.validator
    if "propertyNames" in err.schema_path:  # a severity key that is no rule id
        name = str(err.instance)
        if name in _schema()["properties"]:  # a top-level key written after the [severity] header
            return ConfigProblem(path + [name], f"{name!r} is not a rule id",
                                 f"`{name}` is a top-level key: move it above the first [table] header "
                                 "(a key after [severity] belongs to that table)")
        return ConfigProblem(path + [name], f"{name!r} is not a rule id", _rule_fix(name))
    if validator == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        name = extra[0] if extra else "?"
        near = _nearest(name, allowed)
        fix = (f"did you mean `{near}`? " if near else "") + f"the keys here are {', '.join(allowed)}"
        return ConfigProblem(path + [name], "unknown key", fix)
    if validator == "required":
        missing = next((k for k in err.validator_value if k not in err.instance), "?")
        what = "an allow entry" if path and path[0] == "allow" else "this table"
        fix = {"reason": 'say why these findings may pass, e.g. reason = "rebuilt every night by design"',
               "address": 'name the resource, e.g. address = "aws_instance.app"'}.get(
            str(missing), f"add `{missing}`")
        return ConfigProblem(path, f"{what} without `{missing}`", fix)
    if validator == "enum":
        choices = [str(c) for c in err.validator_value]
        near = _nearest(str(err.instance), choices)
        fix = (f"did you mean {near!r}? " if near else "") + f"use one of {', '.join(choices)}"
        return ConfigProblem(path, f"{err.instance!r} is not one of {', '.join(choices)}", fix)
    if validator == "type":
        want = _TYPE_WORDS.get(str(err.validator_value), str(err.validator_value))
        return ConfigProblem(path, f"must be {want}", "see the README's Config section for an example")
    last = path[-1] if path else ""
    if last == "rule":
        return ConfigProblem(path, f"{err.instance!r} is not a rule id", _rule_fix(str(err.instance)))
    if last == "reason":
        return ConfigProblem(path, "is blank", 'say why these findings may pass, e.g. reason = "rebuilt every night"')
    if last == "expires":
        return ConfigProblem(path, f"{err.instance!r} is not a date", "write dates as YYYY-MM-DD, e.g. 2027-03-31")
    if last == "address":
        return ConfigProblem(path, "is empty", 'name the resource, e.g. address = "aws_instance.app"')
    return ConfigProblem(path, err.message, "see the README's Config section")


def _semantic_problems(data: dict[str, Any]) -> list[ConfigProblem]:
    """What the schema cannot check: rule ids in the registry, blank reasons, address syntax."""
    ids = set(rule_ids())
    out: list[ConfigProblem] = []
    for rule in data.get("severity", {}):
        if rule not in ids:
            out.append(ConfigProblem(["severity", rule], f"no rule {rule}", _rule_fix(rule)))
    for i, entry in enumerate(data.get("allow", [])):
        rule = entry.get("rule")
        if rule is not None and rule not in ids:
            out.append(ConfigProblem(["allow", i, "rule"], f"no rule {rule}", _rule_fix(rule)))
        if not entry.get("reason", "").strip():
            out.append(ConfigProblem(["allow", i, "reason"], "is blank",
                                     'say why these findings may pass, e.g. reason = "rebuilt every night"'))
        try:
            AddressPattern(entry["address"])
        except AddressSyntaxError as exc:
            out.append(ConfigProblem(["allow", i, "address"], f"{entry['address']!r} {exc}", ADDRESS_FIX))
    return out


ADDRESS_FIX = ('write a Terraform address such as aws_instance.app, aws_instance.app["blue"], '
               "module.batch[*].aws_instance.worker or aws_instance.* (see the README's Config section)")


def parse_config(data: dict[str, Any], label: str, text: str | None = None,
                 prefix: Sequence[str] = (), file: str | None = None) -> Config:
    """Validate a config table; `text` (the file) gives line numbers, `prefix` its table's path."""
    import jsonschema

    data = _jsonable(data)
    validator = jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.FormatChecker())
    problems = [_schema_problem(e) for e in validator.iter_errors(data)]
    if not problems:
        problems = _semantic_problems(data)
    if problems:
        lines = key_lines(text) if text is not None else {}
        placed = sorted(((_line_of(lines, [*prefix, *p.path]), n, p) for n, p in enumerate(problems)),
                        key=lambda t: (t[0] or 0, t[1]))
        line, _, first = placed[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise InputError(f"{label}:{line}" if line else label,
                         f"invalid config: key `{key_text([*prefix, *first.path])}`: {first.problem}{more}",
                         first.fix)
    lines = key_lines(text) if text is not None else {}
    allow = []
    for i, entry in enumerate(data.get("allow", [])):
        expires = dt.date.fromisoformat(entry["expires"]) if "expires" in entry else None
        allow.append(AllowEntry(address=entry["address"], rule=entry.get("rule"), reason=entry["reason"].strip(),
                                expires=expires, source=label, line=_line_of(lines, [*prefix, "allow", i])))
    return Config(path=label, file=file, fail_on=data.get("fail-on"), severity=dict(data.get("severity", {})),
                  stateful_types=list(data.get("stateful-types", [])), allow=allow)


# -- where keys are: a simple line scan (tomllib gives no positions) -------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_KEY = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER_RE = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_KEYLINE_RE = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART_RE = re.compile(_KEY)


def _key_parts(dotted: str) -> list[str]:
    parts = []
    for m in _PART_RE.finditer(dotted):
        raw = m.group(0)
        if raw.startswith('"'):
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = raw[1:-1]
        elif raw.startswith("'"):
            raw = raw[1:-1]
        parts.append(raw)
    return parts


def key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Each table header's and key's full path (array-of-tables entries indexed) -> its first line."""
    found: dict[tuple[str | int, ...], int] = {}
    arrays: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER_RE.match(line)
        if header:
            parts = _key_parts(header.group(2))
            path: list[str | int] = []
            for k, part in enumerate(parts):
                path.append(part)
                if k == len(parts) - 1 and header.group(1) == "[[":
                    base = tuple(path)
                    arrays[base] = arrays.get(base, -1) + 1
                    path.append(arrays[base])
                elif k < len(parts) - 1 and tuple(path) in arrays:
                    path.append(arrays[tuple(path)])
            table = tuple(path)
            found.setdefault(table, number)
            continue
        key = _KEYLINE_RE.match(line)
        if key:
            found.setdefault(table + tuple(_key_parts(key.group(1))), number)
            rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
    return found


def _line_of(lines: dict[tuple[str | int, ...], int], path: Sequence[str | int]) -> int | None:
    """The line of `path`, else of its longest prefix that has one."""
    for end in range(len(path), 0, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


# -- finding and reading the file -----------------------------------------------------------------

def _shown(path: Path) -> str:
    """A path as reports show it: relative to the current folder when it lies inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _search_dirs(start: Path) -> Iterable[Path]:
    """`start`, then its parents up to and including the repository root (the folder with .git)."""
    folder = start.resolve()
    while True:
        yield folder
        if (folder / ".git").exists() or folder.parent == folder:
            return
        folder = folder.parent


def load_config(explicit: str | None, search_dir: Path) -> Config:
    """The config named by --config, else the nearest one from `search_dir` up to the repository root,
    else defaults."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise InputError(explicit, "config file not found", "check the --config path")
        cfg = _load_file(path, required=True, label=explicit)
        assert cfg is not None  # required: a file without the section raised
        return cfg
    for folder in _search_dirs(search_dir):
        for name in CONFIG_NAMES:
            path = folder / name
            if path.is_file():
                cfg = _load_file(path, required=False, label=_shown(path))
                if cfg is not None:
                    return cfg
    return Config()


def _load_file(path: Path, required: bool, label: str) -> Config | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(label, f"config cannot be read ({exc})", "check the file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(label, f"config is not valid TOML ({exc})", "fix the TOML syntax") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("replace-guard")
        if section is None:
            if required:
                raise InputError(label, "has no [tool.replace-guard] section",
                                 "add the section or use .replace-guard.toml")
            return None
        if not isinstance(section, dict):
            raise InputError(label, "invalid config: `tool.replace-guard` must be a table",
                             "write it as [tool.replace-guard]")
        return parse_config(section, label, text, PYPROJECT_SECTION, file=str(path))
    return parse_config(data, label, text, file=str(path))


_RULE_TAIL = re.compile(r"[A-Za-z]{3}\d+")


def parse_allow_option(text: str) -> AllowEntry:
    """`--allow ADDRESS[:RULE]`; the part after the last `:` is the rule when it looks like a rule id
    (three letters and digits, e.g. TFG001); an id the registry does not know is an error."""
    address, rule = text, None
    head, sep, tail = text.rpartition(":")
    if sep and _RULE_TAIL.fullmatch(tail):
        address, rule = head, tail.upper()
        if rule not in rule_ids():
            raise InputError("--allow", f"{text!r}: no rule {rule}", _rule_fix(rule))
    try:
        AddressPattern(address)
    except AddressSyntaxError as exc:
        raise InputError("--allow", f"{text!r}: the address {address!r} {exc}", ADDRESS_FIX) from None
    return AllowEntry(address=address, rule=rule, reason="allowed on the command line (--allow)",
                      source="--allow")
