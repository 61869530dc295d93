"""Helpers the report formats share: paths as CI systems want them and rule lookup.

Keeping plan text (data) from turning into runner commands, HTML or links is the job of `safe`
(the one sanitiser) and `plain` (the one renderer of findings as text lines).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import msgspec

from ..findings import Finding
from .safe import ZWJ, shorten

__all__ = ["ZWJ", "dumps_indented", "finding_file", "plan_file", "repo_path", "rule_info", "rule_name", "shorten"]


def rule_info(rule_id: str) -> Any:
    """The rule object for an id, or None (a finding from a rule this build does not know)."""
    from ..rules import RULES_BY_ID

    return RULES_BY_ID.get(rule_id)


def rule_name(rule_id: str) -> str:
    rule = rule_info(rule_id)
    return getattr(rule, "name", "") if rule is not None else ""


def repo_path(file: str) -> str:
    """A finding's file as CI systems want it: relative to the checkout.

    Locations are relative to the current directory (or absolute when outside it). In GitHub
    Actions the repository root is GITHUB_WORKSPACE, in GitLab CI it is CI_PROJECT_DIR; neither
    need be the current directory (a `working-directory:`, a `cd` in the script): there a path
    under it is made relative to it.
    """
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.environ.get("CI_PROJECT_DIR")
    # A report names a few files thousands of times (every finding, every link of its chain):
    # resolved once per file, workspace and current directory.
    return _repo_path(file, workspace or None, os.getcwd() if workspace else None)


@functools.lru_cache(maxsize=4096)
def _repo_path(file: str, workspace: str | None, cwd: str | None) -> str:
    if workspace and cwd is not None:
        try:
            absolute = (Path(cwd) / file).resolve()
            return absolute.relative_to(Path(workspace).resolve()).as_posix()
        except (ValueError, OSError):
            pass
    return PurePosixPath(Path(file).as_posix()).as_posix()


_NON_ASCII = re.compile(r"[^\x00-\x7e]")  # json.dumps(ensure_ascii=True) escapes DEL too


def _ascii_escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xd800 | (code >> 10):04x}\\u{0xdc00 | (code & 0x3ff):04x}"


def indented_items(items: Iterable[Any], indent: int, ensure_ascii: bool = False) -> Iterator[str]:
    """The items of a JSON list as `dumps_indented` writes them inside a document, `indent` spaces
    deep, one piece per item (the list's brackets are the caller's): for reports written one
    result at a time instead of as one document held in memory."""
    pad = "\n" + " " * indent
    for i, item in enumerate(items):
        yield ("," if i else "") + pad + dumps_indented(item, ensure_ascii).replace("\n", pad)


def dumps_indented(document: Any, ensure_ascii: bool = False) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=...)`, the same text, written by msgspec.

    The standard library writes indented JSON in Python, one call per value: 20,000 SARIF
    results took seconds. msgspec writes the same bytes for what reports hold (strings, ints,
    bools, None, lists, dicts; checked for every code point). Floats, which it spells
    differently (`1e16`, `NaN`), never occur in them; text it cannot encode as UTF-8 (lone
    surrogates from hostile plan text) goes to the standard library."""
    try:
        text = msgspec.json.format(msgspec.json.encode(document), indent=2).decode("utf-8")
    except (TypeError, ValueError, msgspec.EncodeError):  # UnicodeEncodeError is a ValueError
        return json.dumps(document, indent=2, ensure_ascii=ensure_ascii)
    if ensure_ascii and (not text.isascii() or "\x7f" in text):
        text = _NON_ASCII.sub(_ascii_escape, text)  # such characters occur only inside strings
    return text


def finding_file(finding: Finding) -> tuple[str | None, int]:
    """The `.tf` file and line of a finding, or (None, 1) without sources."""
    if finding.location is not None:
        return repo_path(finding.location.file), max(1, finding.location.line)
    return None, 1


def plan_file(finding: Finding) -> str | None:
    """The plan file a finding came from, when it is a file (not standard input)."""
    if not finding.plan or finding.plan == "-":
        return None
    return repo_path(finding.plan)

