"""Helpers the report formats share: paths as CI systems want them and rule lookup.

Keeping plan text (data) from turning into runner commands, HTML or links is the job of `safe`
(the one sanitiser) and `plain` (the one renderer of findings as text lines).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from ..findings import Finding
from .plain import message_text
from .safe import ZWJ, clean, defuse_log, shorten

__all__ = ["ZWJ", "break_legacy_commands", "finding_file", "plain_message", "plan_file", "repo_path",
           "rule_info", "rule_name", "shorten"]


def break_legacy_commands(text: str) -> str:
    """`##[` -> `#<ZWJ>#[` (and no line starting with `::`): the runner's command syntax no longer matches."""
    return defuse_log(text)


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


def plain_message(finding: Finding) -> str:
    """The finding's message, sanitised, with its address kept on one line."""
    return clean(message_text(finding))
