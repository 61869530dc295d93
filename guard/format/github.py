"""GitHub Actions workflow-command annotations: `::error file=F,line=N,title=T::message`.

One annotation per group of findings (one cause: the explanation once, with every address it
hits listed), on the `.tf` line of the group's first finding. The runner shows at most 10
annotations of each severity from one step and drops the rest without a word, so this format
emits at most 10 per severity and then says how many it left out.

Every piece of plan text goes through the sanitiser (`safe`, via `plain`), then through the
runner's own escaping (`%`, CR, LF; in properties also `:` and `,`).
"""

from __future__ import annotations

from ..report import Group, Report
from .base import Formatter, RenderOptions
from .common import finding_file, rule_name
from .plain import (
    chain_lines,
    fact_lines,
    fix_lines,
    group_facts,
    group_reference,
    member_line,
    message_lines,
)
from .safe import defuse_log, field, shorten

PER_SEVERITY = 10
COMMAND = {"error": "error", "warning": "warning", "notice": "notice"}
_MAX_FIELD = 2000  # plan text is cut beyond this many characters per field
_MAX_ADDRESSES = 50  # addresses listed in one annotation; the rest are counted
_MAX_MESSAGE = 16_000  # characters of one annotation's message


def escape_data(text: str) -> str:
    """The message part of a workflow command (after the second `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (`file=`, `title=`): also `:` and `,`, which end or split properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def title(g: Group) -> str:
    name = rule_name(g.rule)
    head = f"{g.rule} {name}" if name else g.rule
    subject = shorten(field(g.lead.address), 200)
    if g.size > 1:
        subject += f" and {g.size - 1} more"
    return f"{head}: {subject}"


def message(g: Group) -> str:
    """The annotation text: what happens, the affected addresses, the chain, the fixes."""
    f = g.lead
    out = message_lines(f, _MAX_FIELD)
    out += [line.strip() for line in fact_lines(group_facts(g, _MAX_FIELD))]
    if f.plan:
        out.append(f"plan: {field(f.plan, 300)}")
    if g.size > 1:
        out.append(group_reference(g, 300) + ":")
        out += [f"  {member_line(m, g, 300)}" for m in g.findings[:_MAX_ADDRESSES]]
        if g.size > _MAX_ADDRESSES:
            out.append(f"  ... and {g.size - _MAX_ADDRESSES} more (the job summary and the JSON report list all)")
    if f.chain:
        out += ["why:", *chain_lines(f.chain, indent="  ", limit=_MAX_FIELD)]
    if f.fixes:
        out += ["fixes:", *fix_lines(f.fixes, indent="  ", limit=_MAX_FIELD)]
    return shorten("\n".join(out), _MAX_MESSAGE)


def annotation(g: Group) -> str:
    props = []
    file, line = finding_file(g.lead)
    if file is not None:
        props += [f"file={escape_property(field(file))}", f"line={line}"]
    props.append(f"title={escape_property(defuse_log(title(g)))}")
    return f"::{COMMAND[g.severity.value]} {','.join(props)}::{escape_data(defuse_log(message(g)))}"


class GithubFormat(Formatter):
    name = "github"

    def render(self, report: Report, options: RenderOptions) -> str:
        out: list[str] = []
        shown = {"error": 0, "warning": 0, "notice": 0}
        left = {"error": 0, "warning": 0, "notice": 0}
        left_findings = 0
        for g in report.groups:
            sev = g.severity.value
            if shown[sev] < PER_SEVERITY:
                out.append(annotation(g))
                shown[sev] += 1
            else:
                left[sev] += 1
                left_findings += g.size
        verdict = "FAIL" if report.exit_code else "ok"
        summary = (f"replace-guard {verdict}: {report.count('error')} error(s), {report.count('warning')} warning(s), "
                   f"{report.count('notice')} notice(s) (fail-on: {report.fail_on})")
        if sum(left.values()):
            parts = ", ".join(f"{n} {s}(s)" for s, n in left.items() if n)
            about = f" for {left_findings} finding(s)" if left_findings != sum(left.values()) else ""
            summary += (f"; {sum(left.values())} annotation(s){about} left out ({parts}): GitHub shows at most "
                        f"{PER_SEVERITY} per severity in a step; the job summary and the SARIF report list all")
        out.append(summary)
        return "\n".join(out) + "\n"
