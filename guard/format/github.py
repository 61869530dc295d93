"""GitHub Actions workflow-command annotations: `::error file=F,line=N,title=T::message`.

The runner shows at most 10 annotations of each severity from one step and drops the rest
without a word, so this format emits at most 10 per severity and then says how many it left
out.
"""

from __future__ import annotations

from ..analyze import Report
from ..findings import Finding, action_words
from .base import Formatter, RenderOptions
from .common import break_legacy_commands, finding_file, plain_message, rule_name, shorten
from .text import clean, one_line

PER_SEVERITY = 10
COMMAND = {"error": "error", "warning": "warning", "notice": "notice"}
_MAX_FIELD = 2000  # plan text is cut beyond this many characters per field


def escape_data(text: str) -> str:
    """The message part of a workflow command (after the second `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (`file=`, `title=`): also `:` and `,`, which end or split properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = []
    file, line = finding_file(f)
    if file is not None:
        props += [f"file={escape_property(file)}", f"line={line}"]
    name = rule_name(f.rule)
    title = f"{f.rule} {name}: {shorten(one_line(f.address), 200)}" if name else f"{f.rule}: {shorten(one_line(f.address), 200)}"
    props.append(f"title={escape_property(break_legacy_commands(title))}")
    return f"::{COMMAND[f.severity.value]} {','.join(props)}::{escape_data(break_legacy_commands(message(f)))}"


def message(f: Finding) -> str:
    """The annotation text: what happens, the chain, the fixes. Newlines are kept (escaped)."""
    lines = [shorten(clean(plain_message(f)), _MAX_FIELD),
             f"action: {action_words(f.actions)}" + (f" [{one_line(f.action_reason)}]" if f.action_reason else "")]
    if f.plan:
        lines.append(f"plan: {shorten(one_line(f.plan), 300)}")
    if f.chain:
        lines.append("why: " + " <- ".join(shorten(one_line(link.label()), 300) for link in f.chain))
        for link in f.chain:
            for detail in link.details:
                lines.append(f"  {shorten(one_line(link.ref), 200)}: {shorten(one_line(detail), 300)}")
    for i, fix in enumerate(f.fixes, 1):
        lines.append(f"fix {i}: {one_line(fix.title)}" + (f": {shorten(one_line(fix.detail), 600)}" if fix.detail else ""))
    return "\n".join(lines)


class GithubFormat(Formatter):
    name = "github"

    def render(self, report: Report, options: RenderOptions) -> str:
        out: list[str] = []
        shown = {"error": 0, "warning": 0, "notice": 0}
        left = {"error": 0, "warning": 0, "notice": 0}
        for f in report.findings:
            sev = f.severity.value
            if shown[sev] < PER_SEVERITY:
                out.append(annotation(f))
                shown[sev] += 1
            else:
                left[sev] += 1
        counts = {s: report.count(s) for s in ("error", "warning", "notice")}
        verdict = "FAIL" if report.exit_code else "ok"
        summary = (f"replace-guard {verdict}: {counts['error']} error(s), {counts['warning']} warning(s), "
                   f"{counts['notice']} notice(s) (fail-on: {report.fail_on})")
        if sum(left.values()):
            parts = ", ".join(f"{n} {s}(s)" for s, n in left.items() if n)
            summary += (f"; {sum(left.values())} annotation(s) left out ({parts}): GitHub shows at most "
                        f"{PER_SEVERITY} per severity in a step; the job summary and the SARIF report list all")
        out.append(summary)
        return "\n".join(out) + "\n"
