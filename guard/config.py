"""The config file: `.replace-guard.toml`, or `[tool.replace-guard]` in `pyproject.toml`."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .errors import InputError
from .findings import Finding

CONFIG_NAMES = (".replace-guard.toml", "pyproject.toml")


class AllowEntry(BaseModel):
    address: str
    rule: str | None = None
    reason: str
    expires: dt.date | None = None
    source: str = "config"

    def matches(self, finding: Finding) -> bool:
        return (self.rule is None or self.rule == finding.rule) and fnmatch.fnmatchcase(finding.address, self.address)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today


class Config(BaseModel):
    path: str | None = None
    fail_on: str | None = None
    severity: dict[str, str] = Field(default_factory=dict)
    stateful_types: list[str] = Field(default_factory=list)
    allow: list[AllowEntry] = Field(default_factory=list)


def _schema() -> dict[str, Any]:
    text = resources.files("guard").joinpath("schemas/config.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def parse_config(data: dict[str, Any], label: str) -> Config:
    import jsonschema

    data = _jsonable(data)
    validator = jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "additionalProperties":
            msg = err.message
        else:
            msg = f"key `{where}`: {err.message}"
        raise InputError(label, f"invalid config: {msg}",
                         "see `replace-guard rules` and the README's config section for the keys it takes")
    allow = []
    for entry in data.get("allow", []):
        try:
            expires = dt.date.fromisoformat(entry["expires"]) if "expires" in entry else None
        except ValueError:
            raise InputError(label, f"invalid config: key `allow.expires`: {entry['expires']!r} is not a date",
                             "write dates as YYYY-MM-DD") from None
        allow.append(AllowEntry(address=entry["address"], rule=entry.get("rule"), reason=entry["reason"],
                                expires=expires, source=label))
    return Config(path=label, fail_on=data.get("fail-on"), severity=dict(data.get("severity", {})),
                  stateful_types=list(data.get("stateful-types", [])), allow=allow)


def load_config(explicit: str | None, search_dir: Path) -> Config:
    """The config named by --config, else the first found in `search_dir`, else defaults."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise InputError(explicit, "config file not found", "check the --config path")
        return _load_file(path, required=True)
    for name in CONFIG_NAMES:
        path = search_dir / name
        if path.is_file():
            cfg = _load_file(path, required=False)
            if cfg is not None:
                return cfg
    return Config()


def _load_file(path: Path, required: bool) -> Config | None:
    label = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(label, f"config cannot be read ({exc})", "check the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(label, f"config is not valid TOML ({exc})", "fix the TOML syntax") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("replace-guard")
        if section is None:
            if required:
                raise InputError(label, "has no [tool.replace-guard] section", "add the section or use .replace-guard.toml")
            return None
        return parse_config(section, f"{label} [tool.replace-guard]")
    return parse_config(data, label)


def parse_allow_option(text: str) -> AllowEntry:
    """`--allow ADDRESS[:RULE]`; the rule is split off only when it looks like a rule id."""
    address, rule = text, None
    head, sep, tail = text.rpartition(":")
    if sep and tail.upper().startswith("TFG") and tail[3:].isdigit():
        address, rule = head, tail.upper()
    return AllowEntry(address=address, rule=rule, reason="allowed on the command line (--allow)", source="--allow")
