"""Markdown for `$GITHUB_STEP_SUMMARY` and pull-request comments.

The first line is a hidden marker, `<!-- replace-guard-report -->`, by which the GitHub Action
finds its earlier comment and updates it instead of adding another. A comment holds at most
65,536 characters; the report stays below that, leaving out details (then rows) and saying how
many.

Plan text is data. It never reaches the Markdown raw; it is shown in one of three ways:
- `text(...)`: prose: `&`, `<`, `>` as entities, Markdown punctuation (`|`, backticks, `*`,
  `[`, ...) backslash-escaped, and a zero-width joiner after `@` and `#` so GitHub makes no
  @mention and no #reference of it;
- `code(...)`: the same inside `<code>...</code>` (inline HTML, whose content is still parsed
  as Markdown, so the escapes work; there is no backtick fence to break out of);
- `pre(...)`: an HTML `<pre>` block, entities only (Markdown is not parsed there, and GitHub
  makes no mention inside it), for the chain and the fix snippets, which are meant to be copied.
In all three, newlines and control characters are shown as escapes (`\\n`): plan text cannot start
a new line, a new table row or a runner command, and `##[` is broken apart.
"""

from __future__ import annotations

import html
import re

from ..analyze import Report
from ..findings import Finding, action_words
from .base import Formatter, RenderOptions
from .common import ZWJ, break_legacy_commands, finding_file, plain_message, rule_name, shorten
from .text import clean, one_line

MARKER = "<!-- replace-guard-report -->"
LIMIT = 65_536  # GitHub's limit for a comment body, in characters
BUDGET = LIMIT - 1_536  # room for what the Action may add around the report
_CELL = 300  # plan text longer than this is cut in table cells and headings
_FIELD = 2_000  # ... and in details
_ICON = {"error": "\U0001f6d1", "warning": "\u26a0\ufe0f", "notice": "\u2139\ufe0f"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
# `@name`, `@org/team` and `#123`, `GH-123`: GitHub links and notifies for these in prose.
_MENTION = re.compile(r"@(?=[0-9A-Za-z_-])|#(?=\d)|\bGH(?=-\d)", re.I)


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units), to be safe with emoji."""
    return len(text.encode("utf-16-le")) // 2


def _defuse(value: str) -> str:
    return break_legacy_commands(_MENTION.sub(lambda m: m.group(0) + ZWJ, value))


def text(value: str, limit: int = _FIELD) -> str:
    """Plan text as Markdown prose that renders literally and links or mentions nothing."""
    value = html.escape(shorten(one_line(value), limit), quote=False)  # & < >
    return _defuse(_MD_SPECIAL.sub(r"\\\1", value))


def code(value: str, limit: int = _CELL) -> str:
    """Plan text in monospace, escaped as `text` (safe in a table cell too)."""
    return f"<code>{text(value, limit)}</code>" if value else ""


def html_code(value: str, limit: int = _CELL) -> str:
    """Plan text inside raw HTML (a `<summary>`), where Markdown is not parsed: entities only."""
    escaped = html.escape(shorten(one_line(value), limit), quote=True).replace("`", "&#96;")
    return "<code>" + _defuse(escaped) + "</code>"


def prose(value: str, limit: int = _FIELD) -> str:
    """A rule's sentence (which may quote plan text): `text`, with its `quoted` parts as code.

    Only the split on backticks is trusted; every part is escaped as plan text.
    """
    parts = shorten(one_line(value), limit).split("`")
    if len(parts) % 2 == 0:  # unbalanced: show the backticks as they are
        return text(value, limit)
    return "".join(code(part, limit) if i % 2 else text(part, limit) for i, part in enumerate(parts))


def message(f: Finding, limit: int = 4 * _FIELD) -> str:
    """The finding's message: its address (plan text) as code, the rule's words as `prose`."""
    msg = f.message or f.title
    if not f.address or f.address not in msg:
        return prose(plain_message(f), limit)
    parts = msg.split(f.address)
    out = [prose(parts[0], limit)]
    for part in parts[1:]:
        out += [code(f.address), prose(part, limit)]
    return "".join(out)


def pre(lines: list[str]) -> str:
    """Lines of cleaned one-line text as an HTML `<pre>` block (entities, no Markdown).

    No zero-width joiners here: GitHub makes no mention or reference inside `<pre>`, and fix
    snippets in it are meant to be copied into `.tf` files as they are.
    """
    return "<pre>" + "\n".join(break_legacy_commands(html.escape(line, quote=False)) for line in lines) + "</pre>"


def _where(f: Finding) -> str:
    file, line = finding_file(f)
    return code(f"{file}:{line}") if file is not None else ""


def _chain_lines(f: Finding) -> list[str]:
    out = []
    for i, link in enumerate(f.chain):
        where = f"  [{one_line(link.location.file)}:{link.location.line}]" if link.location else ""
        expr = f"  {shorten(one_line(link.expression), _FIELD)}" if link.expression else ""
        out.append(f"{'   ' if i == 0 else '<- '}{shorten(one_line(link.label()), _FIELD)}{where}{expr}")
        out.extend(f"     {shorten(one_line(d), _FIELD)}" for d in link.details)
        if link.note:
            out.append(f"     ({shorten(one_line(link.note), _FIELD)})")
    return out


def details(f: Finding, n: int) -> str:
    sev = f.severity.value
    name = rule_name(f.rule)
    summary = (f"<summary>{_ICON[sev]} {n}. {html.escape(f.rule)}"
               f"{' ' + html.escape(name) if name else ''} {html_code(f.address)}</summary>")
    parts = [f"<details>{summary}", ""]
    parts.append(message(f))
    facts = [f"- action: {text(action_words(f.actions))}" + (f" ({code(f.action_reason)})" if f.action_reason else "")]
    for v in f.values:
        facts.append(f"- {code(v.path)}: {code(v.before or '', _FIELD)} \u2192 {code(v.after or '', _FIELD)}")
    for key, value in f.facts.items():
        facts.append(f"- {text(key.replace('_', ' '))}: {code(value, _FIELD)}")
    if f.plan:
        facts.append(f"- plan: {code(f.plan)}")
    parts += ["", *facts]
    if f.chain:
        parts += ["", "**Why**, from the attribute that forces replacement back to its source:", "", pre(_chain_lines(f))]
    if f.fixes:
        parts += ["", "**Fixes**", ""]
        for i, fix in enumerate(f.fixes, 1):
            where = f" ({code(f'{fix.location.file}:{fix.location.line}')})" if fix.location else ""
            parts.append(f"{i}. **{prose(fix.title)}**{where}" + (f": {prose(fix.detail)}" if fix.detail else ""))
            if fix.snippet:
                snippet = [shorten(clean(s), _FIELD) for s in fix.snippet.split("\n")]
                parts += ["", pre(snippet), ""]
        if parts[-1] == "":
            parts.pop()
    if f.allowed_by:
        parts += ["", f"Allowed: {text(f.allowed_by)}"]
    parts += ["", "</details>"]
    return "\n".join(parts)


def table_row(f: Finding, n: int) -> str:
    sev = f.severity.value
    name = rule_name(f.rule)
    rule = f"{f.rule} {text(name)}" if name else f.rule
    return (f"| {n} | {_ICON[sev]} {sev} | {rule} | {code(f.address)} | "
            f"{text(action_words(f.actions))} | {_where(f)} |")


TABLE_HEAD = ["| # | Severity | Rule | Resource | Action | Where |", "|---|---|---|---|---|---|"]


def header(report: Report) -> list[str]:
    counts = {s: report.count(s) for s in ("error", "warning", "notice")}
    replaced = sum(p.replace for p in report.plans)
    deleted = sum(p.delete - p.replace for p in report.plans)
    if report.findings:
        verdict = "fails" if report.exit_code else "passes"
        title = (f"## replace-guard {verdict}: {counts['error']} error(s), {counts['warning']} warning(s), "
                 f"{counts['notice']} notice(s)")
    else:
        title = "## replace-guard: no resource is destroyed or replaced unasked"
    plans = ", ".join(code(p.label) + (f" (Terraform {text(p.terraform_version)})" if p.terraform_version else "")
                      for p in report.plans)
    lines = [MARKER, title, "",
             f"Plan{'s' if len(report.plans) != 1 else ''}: {plans or 'none'}. "
             f"The plan replaces {replaced} and deletes {deleted} resource(s). Fails on: {text(report.fail_on)}."]
    if any(p.errored for p in report.plans):
        lines += ["", "**The plan errored** (`errored: true`): it may be incomplete."]
    return lines


def footer(report: Report) -> list[str]:
    out = []
    if report.suppressed:
        out += ["", f"<details><summary>Allowed by the config ({len(report.suppressed)})</summary>", ""]
        out += [f"- {f.rule} {code(f.address)}: {text(f.allowed_by or '')}" for f in report.suppressed[:50]]
        if len(report.suppressed) > 50:
            out.append(f"- \u2026 and {len(report.suppressed) - 50} more")
        out += ["", "</details>"]
    if report.notes:
        out += ["", "**Notes**", ""]
        out += [f"- {text(note)}" for note in report.notes[:50]]
        if len(report.notes) > 50:
            out.append(f"- \u2026 and {len(report.notes) - 50} more")
    return out


class MarkdownFormat(Formatter):
    name = "markdown"

    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report, BUDGET)


def render(report: Report, budget: int = BUDGET) -> str:
    head = "\n".join(header(report))
    foot = "\n".join(footer(report))
    findings = report.findings
    if not findings:
        return "\n".join(p for p in (head, foot) if p) + "\n"
    # Room for the closing note about what was left out.
    reserve = 400
    used = size(head) + size(foot) + reserve + sum(size(line) + 1 for line in TABLE_HEAD) + 2
    rows: list[str] = []
    for n, f in enumerate(findings, 1):
        row = table_row(f, n)
        if used + size(row) + 1 > budget:
            break
        rows.append(row)
        used += size(row) + 1
    sections: list[str] = []
    for n, f in enumerate(findings[: len(rows)], 1):
        section = details(f, n)
        if used + size(section) + 2 > budget:
            break
        sections.append(section)
        used += size(section) + 2
    parts = [head, "", "\n".join(TABLE_HEAD + rows)]
    if sections:
        parts += ["", "\n\n".join(sections)]
    rows_left = len(findings) - len(rows)
    details_left = len(findings) - len(sections)
    if rows_left or details_left:
        said = []
        if rows_left:
            said.append(f"{rows_left} finding(s) left out of the table")
        if details_left:
            said.append(f"details of {details_left} finding(s) left out")
        parts += ["", f"_Too long for one comment: {', '.join(said)}. "
                      "The job log, the SARIF and the JSON report have all of them._"]
    if foot:
        parts.append(foot)
    return "\n".join(parts) + "\n"
