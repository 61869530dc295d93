"""Markdown for `$GITHUB_STEP_SUMMARY` and pull-request comments.

The first line is a hidden marker, `<!-- replace-guard-report -->`, by which the GitHub Action
finds its earlier comment and updates it instead of adding another. A comment holds at most
65,536 characters: the whole document (header, table, details, allowed list, notes) stays
within `BUDGET`, leaving out plans, notes, details and then rows, and saying how many.

One table row and one `<details>` section per group of findings: the explanation once, then
every address the cause hits.

Plan text is data. It reaches the Markdown only through the sanitiser (`safe`, via `plain`) and
then one of these:
- `text(...)`: prose: `&`, `<`, `>` as entities, Markdown punctuation (`|`, backticks, `*`,
  `[`, `:`, ...) backslash-escaped, and a zero-width joiner where GitHub would make a link, a
  mention or a reference: after `@` (mentions, e-mail addresses), `#` before a digit, in `://`
  and `www.`, inside long hex runs (commit ids) and in `:emoji:` names;
- `code(...)`: the same inside `<code>...</code>` (inline HTML, whose content is still parsed
  as Markdown, so the escapes work, and GitHub's autolinker would still act there);
- `html_code(...)`: plan text in raw HTML (a `<summary>`): entities only, and the same joiners;
- `pre(...)`: an HTML `<pre>` block, entities only (Markdown is not parsed there, and GitHub
  links and mentions nothing inside it), for the chain and the fix snippets, which are meant to
  be copied.
In all of them, newlines and control characters are shown as escapes (`\\n`): plan text cannot
start a new line, a new table row or a runner command.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from ..findings import Finding
from ..report import Group, Report
from .base import Formatter, RenderOptions
from .common import finding_file, rule_name
from .plain import (
    action_text,
    chain_lines,
    finding_action,
    fixes_key,
    message_text,
    value_text,
    where,
)
from .safe import ZWJ, clean, defuse_log, one_line, shorten

MARKER = "<!-- replace-guard-report -->"
LIMIT = 65_536  # GitHub's limit for a comment body, in characters
BUDGET = LIMIT - 1_536  # room for what the Action may add around the report
_CELL = 300  # plan text longer than this is cut in table cells and headings
_FIELD = 2_000  # ... and in details
_NOTE = 1_000  # ... and in a note or an allowed entry
_ADDRESSES = 100  # addresses listed in one group's section; the rest are counted
_FOOT_SHARE = 4  # the allowed list and the notes get at most 1/4 of the budget
_RESERVE = 400  # room for the closing note about what was left out
_ICON = {"error": "\U0001f6d1", "warning": "\u26a0\ufe0f", "notice": "\u2139\ufe0f"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>:])")
# Where GitHub makes a link, a mention or a reference of text, wherever it is (its autolinker
# acts inside inline <code> too): `@name`, `@org/team`, `a@b.c`; `#123`, `GH-123`; `x://`; `www.`.
_LINKISH = re.compile(r"@(?=[0-9A-Za-z_-])|#(?=\d)|\bGH(?=-\d)|:(?=//)|\bwww(?=\.)", re.IGNORECASE)
# ... and in prose only (GitHub leaves code alone there): commit ids and :emoji: names.
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{7,}(?![0-9A-Za-z_])")
_EMOJI = re.compile(r":(?=[0-9A-Za-z_+-]+:)")


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units), to be safe with emoji."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _unlink(value: str) -> str:
    return _LINKISH.sub(lambda m: m.group(0) + ZWJ, value)


def _unref(value: str) -> str:
    value = _HEX_RUN.sub(lambda m: ZWJ.join(m.group(0)[i:i + 6] for i in range(0, len(m.group(0)), 6)), value)
    return _EMOJI.sub(":" + ZWJ, value)


def _markdown(value: str, limit: int, prose: bool) -> str:
    value = _unlink(shorten(one_line(value), limit))
    if prose:
        value = _unref(value)
    return _MD_SPECIAL.sub(r"\\\1", html.escape(value, quote=False))


def text(value: str, limit: int = _FIELD) -> str:
    """Plan text as Markdown prose that renders literally and links or mentions nothing."""
    return _markdown(value, limit, prose=True)


def code(value: str, limit: int = _CELL) -> str:
    """Plan text in monospace, escaped as `text` (safe in a table cell too)."""
    return f"<code>{_markdown(value, limit, prose=False)}</code>" if value else ""


def html_code(value: str, limit: int = _CELL) -> str:
    """Plan text inside raw HTML (a `<summary>`), where Markdown is not parsed: entities only."""
    escaped = html.escape(_unlink(shorten(one_line(value), limit)), quote=True).replace("`", "&#96;")
    return "<code>" + escaped + "</code>"


def prose(value: str, limit: int = _FIELD) -> str:
    """A rule's sentence (which may quote plan text): `text`, with its `quoted` parts as code.

    Only the split on backticks is trusted; every part is escaped as plan text.
    """
    parts = shorten(one_line(value), limit).split("`")
    if len(parts) % 2 == 0:  # unbalanced: show the backticks as they are
        return text(value, limit)
    return "".join(code(part, limit) if i % 2 else text(part, limit) for i, part in enumerate(parts))


def message(g: Group, limit: int = 4 * _FIELD) -> str:
    """The lead finding's message: its address (plan text) as code, the rule's words as `prose`."""
    f = g.lead
    msg = message_text(f)
    if not f.address or one_line(f.address) not in msg:
        return prose(msg, limit)
    parts = msg.split(one_line(f.address))
    out = [prose(parts[0], limit)]
    for part in parts[1:]:
        out += [code(f.address), prose(part, limit)]
    return "".join(out)


def _pre_safe(text_: str) -> str:
    """Cleaned text as the content of an HTML block: entities, and runner syntax as entities."""
    return defuse_log(html.escape(text_, quote=False), hash_sub="#&#35;[", colon_sub="&#58;")


def pre(lines: list[str]) -> str:
    """Lines of sanitised text as an HTML `<pre>` block (entities, no Markdown).

    No zero-width joiners here: GitHub makes no link, mention or reference inside `<pre>`, and
    fix snippets in it are meant to be copied into `.tf` files as they are.
    """
    return "<pre>" + "\n".join(_pre_safe(clean(line)) for line in lines) + "</pre>"


def _where(g: Group) -> str:
    file, line = finding_file(g.lead)
    return code(f"{file}:{line}") if file is not None else ""


def _resource_cell(g: Group) -> str:
    cell = code(g.lead.address)
    return cell + (f" and {g.size - 1} more" if g.size > 1 else "")


def _facts(g: Group) -> list[str]:
    f = g.lead
    out = []
    if g.root:
        out.append(f"- root cause: {code(g.root, _FIELD)}")
    if g.common_action:
        out.append(f"- action: {text(action_text(f.actions))}"
                   + (f" ({code(f.action_reason)})" if f.action_reason else ""))
    if g.common_values:
        for v in f.values:
            out.append(f"- {code(v.path)}: {code(v.before or '', _FIELD)} \u2192 {code(v.after or '', _FIELD)}")
    for key, value in f.facts.items():
        if g.common_fact(key):
            out.append(f"- {text(key.replace('_', ' '))}: {code(value, _FIELD)}")
    if f.plan:
        out.append(f"- plan: {code(f.plan)}")
    return out


def _member(g: Group, n: int) -> str:
    f = g.findings[n]
    parts = [code(f.address)]
    loc = where(f.location)
    if loc:
        parts.append(f"({code(loc)})")
    if not g.common_action:
        parts.append(text(finding_action(f)))
    if not g.common_values:
        parts.append("; ".join(code(value_text(v), _FIELD) for v in f.values))
    for key, value in f.facts.items():
        if not g.common_fact(key):
            parts.append(f"{text(key.replace('_', ' '))}: {code(value, _FIELD)}")
    return "- " + " ".join(p for p in parts if p)


def details(g: Group, n: int, max_addresses: int = _ADDRESSES) -> str:
    f = g.lead
    sev = f.severity.value
    name = rule_name(f.rule)
    subject = html_code(g.root if g.size > 1 and g.root else f.address)
    count = f" ({g.size} resources)" if g.size > 1 else ""
    summary = (f"<summary>{_ICON[sev]} {n}. {html.escape(f.rule)}"
               f"{' ' + html.escape(name) if name else ''} {subject}{count}</summary>")
    parts = [f"<details>{summary}", "", message(g), "", *_facts(g)]
    if g.size > 1:
        parts += ["", f"**Affected** ({g.size}):", ""]
        parts += [_member(g, i) for i in range(min(g.size, max_addresses))]
        if g.size > max_addresses:
            parts.append(f"- \u2026 and {g.size - max_addresses} more (the JSON report lists all)")
    if f.chain:
        shown_for = f" (shown for {code(f.address)})" if g.size > 1 else ""
        parts += ["", f"**Why**, from the attribute that forces replacement back to its source{shown_for}:", "",
                  pre(chain_lines(f.chain, indent="", limit=_FIELD))]
    if f.fixes:
        parts += ["", "**Fixes**" + (f" (for {code(f.address)})" if g.size > 1 else ""), ""]
        parts += _fix_items(f)
        lead_key = fixes_key(f)
        others = [m for m in g.findings[1:max_addresses] if fixes_key(m) != lead_key]
        for m in others[:10]:
            parts += ["", f"**Fixes for {code(m.address)}**", ""]
            parts += _fix_items(m)
        if len(others) > 10:
            parts += ["", f"\u2026 and {len(others) - 10} more resources with fixes of their own (the JSON report "
                          "lists them)"]
        if parts[-1] == "":
            parts.pop()
    if f.allowed_by:
        parts += ["", f"Allowed: {text(f.allowed_by)}"]
    parts += ["", "</details>"]
    return "\n".join(parts)


def _fix_items(f: Finding) -> list[str]:
    parts: list[str] = []
    for i, fix in enumerate(f.fixes, 1):
        loc = f" ({code(where(fix.location))})" if fix.location else ""
        parts.append(f"{i}. **{prose(fix.title)}**{loc}" + (f": {prose(fix.detail)}" if fix.detail else ""))
        if fix.snippet:
            snippet = [shorten(clean(s), _FIELD) for s in fix.snippet.split("\n")]
            parts += ["", pre(snippet), ""]
    return parts


def table_row(g: Group, n: int) -> str:
    sev = g.severity.value
    name = rule_name(g.rule)
    rule = f"{g.rule} {text(name)}" if name else text(g.rule)
    action = text(action_text(g.lead.actions)) if g.common(lambda x: x.actions) else "(varies)"
    return f"| {n} | {_ICON[sev]} {sev} | {rule} | {_resource_cell(g)} | {action} | {_where(g)} |"


TABLE_HEAD = ["| # | Severity | Rule | Resource | Action | Where |", "|---|---|---|---|---|---|"]


def _fit(items: list[str], room: int) -> tuple[list[str], int]:
    """As many of `items` (lines) as fit in `room` characters; and how many were left out."""
    kept: list[str] = []
    for item in items:
        cost = size(item) + 1
        if cost > room:
            break
        kept.append(item)
        room -= cost
    return kept, len(items) - len(kept)


def header(report: Report, room: int = BUDGET) -> list[str]:
    counts = report.counts
    if report.findings:
        verdict = "fails" if report.exit_code else "passes"
        causes = len(report.groups)
        grouped = f" from {causes} cause(s)" if causes != len(report.findings) else ""
        title = (f"## replace-guard {verdict}: {counts['error']} error(s), {counts['warning']} warning(s), "
                 f"{counts['notice']} notice(s){grouped}")
    else:
        title = "## replace-guard: no resource is destroyed or replaced unasked"
    entries = [code(p.label) + (f" (Terraform {text(p.terraform_version)})" if p.terraform_version else "")
               for p in report.plans]
    shown, left = _fit(entries, room // 8)
    plans = ", ".join(shown) + (f" and {left} more" if left else "")
    lines = [MARKER, title, "",
             (f"Plan{'s' if len(report.plans) != 1 else ''}: {plans or 'none'}. "
              f"The plan replaces {report.replaced} and deletes {report.deleted_without_replacement} more "
              f"resource(s) without replacing them. Fails on: {text(report.fail_on)}.")]
    if any(p.errored for p in report.plans):
        lines += ["", "**The plan errored** (`errored: true`): it may be incomplete."]
    if report.fix_command:
        lines += ["", (f"**Fix:** {code(report.fix_command, _FIELD)} shows the edit as a diff; with "
                       "`--write` it makes it.")]
    return lines


def footer(report: Report, room: int = BUDGET // _FOOT_SHARE) -> list[str]:
    """The allowed findings and the notes, within `room` characters, saying what was left out."""
    out: list[str] = []
    sections: list[tuple[str, list[str], Callable[[int], str]]] = []
    if report.suppressed:
        allowed = [f"- {text(f.rule)} {code(f.address)}: {text(f.allowed_by or '', _NOTE)}" for f in report.suppressed]
        sections.append((f"<details><summary>Allowed by the config ({len(report.suppressed)})</summary>", allowed,
                         lambda n: f"- \u2026 and {n} more (the JSON report lists all)"))
    if report.notes:
        notes = [f"- {text(note, _NOTE)}" for note in report.notes]
        sections.append(("**Notes**", notes, lambda n: f"- \u2026 and {n} more note(s) (the JSON report lists all)"))
    for i, (head, items, more) in enumerate(sections):
        closing = ["", "</details>"] if head.startswith("<details>") else []
        fixed = ["", head, "", *closing]
        # What this section may use: an equal share of what is left for the sections still to come.
        share = (room - sum(size(x) + 1 for x in fixed)) // (len(sections) - i) - size(more(len(items))) - 1
        kept, left = _fit(items, max(0, share))
        body = kept + ([more(left)] if left else [])
        block = ["", head, "", *body, *closing]
        out += block
        room -= sum(size(x) + 1 for x in block)
    return out


class MarkdownFormat(Formatter):
    name = "markdown"

    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report, BUDGET)


def render(report: Report, budget: int = BUDGET) -> str:
    """The whole comment within `budget` characters: the header first, then the findings, then the
    allowed list and the notes (which get at least what they need up to a quarter of the budget,
    and whatever the findings leave)."""
    head = "\n".join(header(report, budget))
    foot_share = min(size("\n".join(footer(report, budget))), budget // _FOOT_SHARE)
    body = _findings(report, budget - size(head) - foot_share - _RESERVE)
    parts = [head, *body]
    foot = "\n".join(footer(report, budget - size("\n".join(parts)) - _RESERVE // 2))
    if foot:
        parts.append(foot)
    return defuse_log("\n".join(parts) + "\n", hash_sub="#&#35;[", colon_sub="&#58;")


def _findings(report: Report, room: int) -> list[str]:
    """The table and the sections, within `room` characters, and a note of what was left out."""
    groups = report.groups
    if not groups:
        return []
    used = sum(size(line) + 1 for line in TABLE_HEAD) + 3
    rows, _ = _fit([table_row(g, n) for n, g in enumerate(groups, 1)], room - used)
    used += sum(size(r) + 1 for r in rows)
    sections: list[str] = []
    for n, g in enumerate(groups[: len(rows)], 1):
        section = details(g, n)
        if used + size(section) + 2 > room and g.size > 1:
            section = details(g, n, max_addresses=10)  # a shorter list rather than no section
        if used + size(section) + 2 > room:
            break
        sections.append(section)
        used += size(section) + 2
    parts = ["", "\n".join(TABLE_HEAD + rows)]
    if sections:
        parts += ["", "\n\n".join(sections)]
    rows_left = sum(g.size for g in groups[len(rows):])
    details_left = sum(g.size for g in groups[len(sections):])
    if rows_left or details_left:
        said = []
        if rows_left:
            said.append(f"{rows_left} finding(s) left out of the table")
        if details_left:
            said.append(f"details of {details_left} finding(s) left out")
        parts += ["", (f"_Too long for one comment: {', '.join(said)}. "
                       "The job log, the SARIF and the JSON report have all of them._")]
    return parts
