"""GitLab Code Quality (`artifacts: reports: codequality:`): a JSON array of issues, shown in the
merge request's widget and on the changed lines of its diff.

One issue per finding (GitLab places each on a line; a group of findings that share one cause
says so in each description). An issue has `description`, `check_name`, `fingerprint` (unique
per issue and stable across runs, as GitLab compares a branch's issues with the target's by it),
`severity` (info, minor, major, critical, blocker) and `location` (`path` relative to the
repository, `lines.begin`). Without sources a finding points at the plan file, line 1.
Findings allowed by the config are left out: GitLab has no notion of a suppressed issue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ..findings import Finding
from ..report import Report
from .base import Formatter, RenderOptions
from .common import dumps_indented, finding_file, indented_items, plan_file, rule_name
from .plain import group_reference
from .safe import defuse_json, field

SEVERITY = {"error": "critical", "warning": "major", "notice": "info"}
_MAX_DESCRIPTION = 1000


def fingerprint(f: Finding, seen: dict[str, int]) -> str:
    """The finding's own fingerprint (rule, address, forcing paths) with its plan: two plans of a
    monorepo can hold the same address. A repeat in one run gets a counter, so each is unique."""
    basis = f"{f.plan}\x1f{f.fingerprint}"
    n = seen.get(basis, 0)
    seen[basis] = n + 1
    if n:
        basis += f"\x1f{n}"
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def issue(report: Report, f: Finding, seen: dict[str, int]) -> dict[str, Any]:
    file, line = finding_file(f)
    path = file if file is not None else (plan_file(f) or "-")
    title = field(f.title, 600)
    description = f"{f.rule} {title}" if f.address in f.title else f"{f.rule} {field(f.address, 300)}: {title}"
    group = report.group_of.get(id(f))
    if group is not None and group.size > 1:
        description += f" ({group_reference(group, 300)})"
    name = rule_name(f.rule)
    return {
        "description": field(description, _MAX_DESCRIPTION),
        "check_name": f"replace-guard/{f.rule}" + (f"/{name}" if name else ""),
        "fingerprint": fingerprint(f, seen),
        "severity": SEVERITY[f.severity.value],
        "location": {"path": path, "lines": {"begin": line}},
    }


def iter_issues(report: Report) -> Iterator[dict[str, Any]]:
    seen: dict[str, int] = {}
    for f in report.findings:
        yield issue(report, f, seen)


def build(report: Report) -> list[dict[str, Any]]:
    return list(iter_issues(report))


class CodeQualityFormat(Formatter):
    name = "codequality"

    def render(self, report: Report, options: RenderOptions) -> str:
        return defuse_json(dumps_indented(build(report), ensure_ascii=True)) + "\n"

    def render_bytes(self, report: Report, options: RenderOptions) -> Iterator[bytes]:
        """`render`, one issue at a time."""
        if not report.findings:
            yield b"[]\n"
            return
        yield b"["
        for piece in indented_items(iter_issues(report), 2, ensure_ascii=True):
            yield defuse_json(piece).encode("utf-8")
        yield b"\n]\n"
