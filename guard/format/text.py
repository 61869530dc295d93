"""Text for people: readable in a CI log, colour only on a terminal.

One section per group of findings (the explanation once, then every address it hits), the
allowed findings and the notes, a closing summary line and, when there is one, the command that
fixes what the report found. `--compact`: one line per finding, `path:line: severity - RULE
address: title`, then the summary line.

`clean`, `one_line`, `chain_lines` and `_painter` stay importable from here (`explain` uses them).
"""

from __future__ import annotations

from ..findings import Finding
from ..report import Report
from .base import Formatter, RenderOptions
from .common import finding_file, plan_file
from .plain import Painter, chain_lines, group_lines
from .safe import clean, defuse_log, field, one_line

__all__ = ["TextFormat", "_painter", "chain_lines", "clean", "compact_line", "one_line", "summary_line"]

_COLORS = {"error": "31;1", "warning": "33;1", "notice": "36", "dim": "2", "bold": "1"}


class TextFormat(Formatter):
    name = "text"

    def render(self, report: Report, options: RenderOptions) -> str:
        c = _painter(options.color)
        lines: list[str] = []
        if options.compact:
            lines.extend(compact_line(f, c) for f in report.findings)
        else:
            for group in report.groups:
                lines.extend(group_lines(group, c))
                lines.append("")
            for f in report.suppressed:
                lines.append(c("dim", f"allowed {field(f.rule)} {field(f.address)}: {field(f.allowed_by)}"))
            for note in report.notes:
                lines.append(c("dim", f"note: {one_line(note)}"))
        lines.append(summary_line(report, c))
        if report.fix_command:
            lines.append(f"fix: {one_line(report.fix_command)}  (the edits as a diff; --write makes them)")
        return defuse_log("\n".join(lines)) + "\n"


def compact_line(f: Finding, c: Painter) -> str:
    """`path:line: severity - RULE address: title`; without a .tf location, the plan file, line 1."""
    file, line = finding_file(f)
    path = file if file is not None else (plan_file(f) or "-")
    sev = f.severity.value
    return f"{one_line(path)}:{line}: {c(sev, sev)} - {field(f.rule)} {field(f.address)}: {field(f.title)}"


def summary_line(report: Report, c: Painter) -> str:
    plans = ", ".join(one_line(p.label) for p in report.plans)
    verdict = c("error", "FAIL") if report.exit_code else c("bold", "ok")
    groups = len(report.groups)
    grouped = f" ({groups} cause(s))" if groups != len(report.findings) else ""
    return (f"replace-guard {verdict}: {report.count('error')} error(s), {report.count('warning')} warning(s), "
            f"{report.count('notice')} notice(s){grouped} in {plans}; plan replaces {report.replaced}, "
            f"deletes {report.deleted_without_replacement} without replacement (fail-on: {report.fail_on})")


def _painter(enabled: bool) -> Painter:
    def paint(kind: str, text: str) -> str:
        if not enabled:
            return text
        return f"\x1b[{_COLORS[kind]}m{text}\x1b[0m"

    return paint
