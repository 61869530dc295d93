"""Text for people: readable in a CI log, colour only on a terminal."""

from __future__ import annotations

from ..analyze import Report
from ..findings import ChainLink, Finding, action_words
from .base import Formatter, RenderOptions

_COLORS = {"error": "31;1", "warning": "33;1", "notice": "36", "dim": "2", "bold": "1"}


def clean(text: str) -> str:
    """Plan text is data: show control characters (ANSI escapes, CR, ...) as escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if code < 32 and ch not in "\n" or code == 127 or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    # A CI runner acts on `##[command]` anywhere in a line and on `::command` at a line's start.
    text = "".join(out).replace("##[", "#\u200d#[")
    body = text.lstrip()
    if body.startswith("::"):
        text = text[: len(text) - len(body)] + ":\u200d" + body[1:]
    return text


def one_line(text: str) -> str:
    return clean(text).replace("\n", "\\n")


class TextFormat(Formatter):
    name = "text"

    def render(self, report: Report, options: RenderOptions) -> str:
        c = _painter(options.color)
        lines: list[str] = []
        for finding in report.findings:
            lines.extend(self._finding(finding, c))
            lines.append("")
        for finding in report.suppressed:
            lines.append(c("dim", f"allowed {finding.rule} {one_line(finding.address)}: {one_line(finding.allowed_by or '')}"))
        for note in report.notes:
            lines.append(c("dim", f"note: {one_line(note)}"))
        lines.append(self._summary(report, c))
        return "\n".join(lines) + "\n"

    def _finding(self, f: Finding, c) -> list[str]:
        sev = f.severity.value
        out = [f"{c(sev, sev)} {c('bold', f.rule)} {one_line(f.title)}"]
        loc = f" ({one_line(f.location.file)}:{f.location.line})" if f.location else ""
        out.append(f"  plan:    {one_line(f.plan)}{loc}")
        out.append(f"  action:  {action_words(f.actions)}" + (f" [{f.action_reason}]" if f.action_reason else ""))
        for v in f.values:
            out.append(f"  change:  {one_line(v.path)}: {one_line(v.before or '')} -> {one_line(v.after or '')}")
        for key, value in f.facts.items():
            out.append(f"  {key.replace('_', ' ')}: {one_line(value)}")
        if f.chain:
            out.append("  why:")
            out.extend(chain_lines(f.chain, c))
        for para in f.message.replace(f.address, one_line(f.address)).split("\n"):
            out.append("  " + clean(para))
        if f.fixes:
            out.append("  fixes:")
            for i, fix in enumerate(f.fixes, 1):
                out.append(f"    {i}. {one_line(fix.title)}")
                if fix.detail:
                    out.append(f"       {one_line(fix.detail)}")
                if fix.snippet:
                    out.extend(f"         {clean(s)}" for s in fix.snippet.split("\n"))
        return out

    def _summary(self, report: Report, c) -> str:
        n_err, n_warn, n_note = (report.count(s) for s in ("error", "warning", "notice"))
        replaced = sum(p.replace for p in report.plans)
        deleted = sum(p.delete - p.replace for p in report.plans)
        plans = ", ".join(one_line(p.label) for p in report.plans)
        verdict = c("error", "FAIL") if report.exit_code else c("bold", "ok")
        return (f"replace-guard {verdict}: {n_err} error(s), {n_warn} warning(s), {n_note} notice(s) "
                f"in {plans}; plan replaces {replaced}, deletes {deleted} (fail-on: {report.fail_on})")


def chain_lines(chain: list[ChainLink], c) -> list[str]:
    out = []
    for i, link in enumerate(chain):
        arrow = "   " if i == 0 else "<- "
        where = f"{link.location.file}:{link.location.line}" if link.location else ""
        expr = f"  {one_line(link.expression)}" if link.expression else ""
        out.append(f"    {arrow}{one_line(link.label())}" + (f"  [{one_line(where)}]" if where else "") + expr)
        for d in link.details:
            out.append(f"         {one_line(d)}")
        if link.note:
            out.append(c("dim", f"         ({one_line(link.note)})"))
    return out


def _painter(enabled: bool):
    def paint(kind: str, text: str) -> str:
        if not enabled:
            return text
        return f"\x1b[{_COLORS[kind]}m{text}\x1b[0m"

    return paint
