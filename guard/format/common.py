"""Helpers the CI report formats share: paths as CI systems want them, rule lookup, and
keeping plan text (data) from turning into runner commands.

Plan text can hold anything: a `for_each` key may contain a newline followed by `::error::`, or
`##[error]`. A CI runner reads every line a step prints; GitHub's runner acts on a line that
starts (after spaces) with `::command` and, in its older syntax, on `##[command]` anywhere in a
line. Every format that can end up in a log therefore keeps plan text on one line and breaks
`##[` apart.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from ..findings import Finding

ZWJ = "\u200d"  # zero-width joiner: invisible, and breaks a token GitHub would act on
LEGACY_COMMAND = "##["
_LEGACY_ALT = re.compile(r"#(?=#\[)")


def break_legacy_commands(text: str) -> str:
    """`##[` -> `#<ZWJ>#[`: the runner's old `##[command]` syntax no longer matches."""
    return _LEGACY_ALT.sub("#" + ZWJ, text) if LEGACY_COMMAND in text else text


def rule_info(rule_id: str):
    """The rule object for an id, or None (a finding from a rule this build does not know)."""
    from ..rules import RULES_BY_ID

    return RULES_BY_ID.get(rule_id)


def rule_name(rule_id: str) -> str:
    rule = rule_info(rule_id)
    return getattr(rule, "name", "") if rule is not None else ""


def repo_path(file: str) -> str:
    """A finding's file as CI systems want it: relative to the checkout.

    Locations are relative to the current directory (or absolute when outside it). In GitHub
    Actions the repository root is GITHUB_WORKSPACE, which need not be the current directory
    (a `working-directory:`); there a path under it is made relative to it.
    """
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        try:
            absolute = (Path.cwd() / file).resolve()
            return absolute.relative_to(Path(workspace).resolve()).as_posix()
        except (ValueError, OSError):
            pass
    return PurePosixPath(Path(file).as_posix()).as_posix()


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


def shorten(text: str, limit: int) -> str:
    """Cut long plan text (a huge value) to `limit` characters, saying so."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "\u2026"


def plain_message(finding: Finding) -> str:
    """The finding's message with its address kept on one line (a key may hold a newline)."""
    from .text import one_line

    text = finding.message or finding.title
    if finding.address and finding.address in text:
        text = text.replace(finding.address, one_line(finding.address))
    return text
