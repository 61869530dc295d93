"""Findings and groups as plain text lines: the one renderer of the cause chain and of a finding's
facts, shared by the text report, `explain`, JUnit, GitHub annotations, SARIF and Markdown.

Every function here returns text that went through the sanitiser (`safe`): lines that cannot
act as runner commands and hold no control characters. A format that needs more (HTML
entities, `%0A`) escapes these lines further.

`limit` cuts each piece of plan text to that many characters (None: no cut); `c` paints a
piece for a terminal (`no_paint` by default).
"""

from __future__ import annotations

from collections.abc import Callable

from ..findings import ChainLink, Finding, Fix, Location, ValueChange, action_words
from ..report import Group
from .safe import clean, field, one_line, shorten

Painter = Callable[[str, str], str]


def no_paint(kind: str, text: str) -> str:
    return text


def where(location: Location | None, limit: int | None = None) -> str:
    """`file:line` of a location, or ''."""
    return f"{field(location.file, limit)}:{location.line}" if location is not None else ""


def action_text(actions: list[str] | tuple[str, ...], reason: str | None = None, limit: int | None = None) -> str:
    """What the plan does, in words, with Terraform's reason: `destroy, then create ... [reason]`.

    Both come from the plan (an action Terraform adds later is shown as it is written), so both
    are sanitised.
    """
    words = field(action_words(list(actions)), limit)
    return words + (f" [{field(reason, limit)}]" if reason else "")


def finding_action(f: Finding, limit: int | None = None) -> str:
    return action_text(f.actions, f.action_reason, limit)


def value_text(v: ValueChange, limit: int | None = None) -> str:
    return f"{field(v.path, limit)}: {field(v.before, limit)} -> {field(v.after, limit)}"


def values_text(values: list[ValueChange], limit: int | None = None) -> str:
    return "; ".join(value_text(v, limit) for v in values)


def fact_label(key: str) -> str:
    return field(key.replace("_", " "), 100)


def chain_lines(chain: list[ChainLink], c: Painter = no_paint, indent: str = "    ",
                limit: int | None = None) -> list[str]:
    """The chain from the forcing attribute back to its root, one link a line:

        aws_instance.app.ami  [main.tf:8]  data.aws_ami.al2.id
     <- data.aws_ami.al2  [main.tf:1]
          most_recent = true
    """
    out = []
    for i, link in enumerate(chain):
        arrow = "   " if i == 0 else "<- "
        loc = where(link.location, limit)
        expr = f"  {field(link.expression, limit)}" if link.expression else ""
        out.append(f"{indent}{arrow}{field(link.label(), limit)}" + (f"  [{loc}]" if loc else "") + expr)
        out.extend(f"{indent}     {field(d, limit)}" for d in link.details)
        if link.note:
            out.append(c("dim", f"{indent}     ({field(link.note, limit)})"))
    return out


def chain_inline(chain: list[ChainLink], limit: int | None = None) -> str:
    """The chain on one line: `aws_instance.app.ami <- var.ami <- data.aws_ami.al2`."""
    return " <- ".join(field(link.label(), limit) for link in chain)


def message_text(f: Finding) -> str:
    """The finding's message (or title), the address in it kept on one line; may span lines."""
    text = f.message or f.title
    if f.address and f.address in text:
        text = text.replace(f.address, one_line(f.address))
    return text


def message_lines(f: Finding, limit: int | None = None) -> list[str]:
    """The message's paragraphs, each sanitised (a rule's message quotes plan text)."""
    return [shorten(clean(para), limit) for para in message_text(f).split("\n")]


def fix_lines(fixes: list[Fix], indent: str = "    ", limit: int | None = None) -> list[str]:
    """Numbered fixes: title, detail, and the snippet to paste, indented."""
    out = []
    for i, fix in enumerate(fixes, 1):
        loc = where(fix.location, limit)
        out.append(f"{indent}{i}. {field(fix.title, limit)}" + (f"  [{loc}]" if loc else ""))
        if fix.detail:
            out.append(f"{indent}   {field(fix.detail, limit)}")
        if fix.snippet:
            out.extend(f"{indent}     {shorten(clean(s), limit)}" for s in fix.snippet.split("\n"))
    return out


def facts(f: Finding, limit: int | None = None) -> list[tuple[str, str]]:
    """(label, text) pairs: the action, each value change, each of the rule's facts."""
    out = [("action", finding_action(f, limit))]
    out += [("change", value_text(v, limit)) for v in f.values]
    out += [(fact_label(k), field(v, limit)) for k, v in f.facts.items()]
    return out


def fact_lines(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"  {label + ':':<8} {text}" if label in ("action", "change") else f"  {label}: {text}"
            for label, text in pairs]


def explanation_lines(f: Finding, c: Painter = no_paint, limit: int | None = None) -> list[str]:
    """Why (the chain), the message, the fixes: indented by two spaces."""
    out = []
    if f.chain:
        out.append("  why:")
        out.extend(chain_lines(f.chain, c, limit=limit))
    out.extend("  " + line for line in message_lines(f, limit))
    if f.fixes:
        out.append("  fixes:")
        out.extend(fix_lines(f.fixes, limit=limit))
    return out


def finding_body(f: Finding, c: Painter = no_paint, limit: int | None = None) -> list[str]:
    """Everything about one finding but its heading, indented by two spaces."""
    loc = where(f.location, limit)
    out = [f"  plan:    {field(f.plan, limit)}" + (f" ({loc})" if loc else "")]
    out += fact_lines(facts(f, limit))
    out += explanation_lines(f, c, limit)
    if f.allowed_by:
        out.append(f"  allowed: {field(f.allowed_by, limit)}")
    return out


def heading(f: Finding, c: Painter = no_paint, limit: int | None = None) -> str:
    sev = f.severity.value
    return f"{c(sev, sev)} {c('bold', field(f.rule))} {field(f.title, limit)}"


def group_title(g: Group, limit: int | None = None) -> str:
    """A group's one-line title: its root and how many it hits; for a group of one, the finding's title."""
    if g.size == 1:
        return field(g.lead.title, limit)
    if g.root:
        return f"{g.size} resources, one cause: {field(g.root, limit)}"
    return f"{g.size} resources, one cause, e.g. {field(g.lead.title, limit)}"


def group_facts(g: Group, limit: int | None = None) -> list[tuple[str, str]]:
    """The lead's facts that hold for every finding of the group (all of them for a group of one)."""
    shown = facts(g.lead, limit)
    if g.size == 1:
        return shown
    if not g.common_action:
        shown = [(label, text) for label, text in shown if label != "action"]
    if not g.common_values:
        shown = [(label, text) for label, text in shown if label != "change"]
    varying = {fact_label(k) for k in g.lead.facts if not g.common_fact(k)}
    return [(label, text) for label, text in shown if label not in varying]


def _differences(f: Finding, g: Group, limit: int | None) -> str:
    """What sets one member apart from the group's lead, in the parts the section shows once."""
    parts = []
    if not g.common_action:
        parts.append(finding_action(f, limit))
    if not g.common_values:
        parts.append(values_text(f.values, limit))
    for key, value in f.facts.items():
        if not g.common_fact(key):
            parts.append(f"{fact_label(key)}: {field(value, limit)}")
    return "; ".join(p for p in parts if p)


def member_line(f: Finding, g: Group, limit: int | None = None) -> str:
    """One affected address: `address  [file:line]  what differs from the others`."""
    loc = where(f.location, limit)
    extra = _differences(f, g, limit)
    return field(f.address, limit) + (f"  [{loc}]" if loc else "") + (f"  {extra}" if extra else "")


def group_lines(g: Group, c: Painter = no_paint, limit: int | None = None,
                max_addresses: int | None = None) -> list[str]:
    """A group: the explanation once, then every address it hits.

    A group of one is the finding as it always was (with its root, when a rule named one).
    """
    f = g.lead
    sev = f.severity.value
    if g.size == 1:
        out = [heading(f, c, limit)]
        if g.root:
            out.append(f"  root:    {field(g.root, limit)}")
        return out + finding_body(f, c, limit)
    out = [f"{c(sev, sev)} {c('bold', field(g.rule))} {group_title(g, limit)}"]
    if g.root:
        out.append(f"  root:    {field(g.root, limit)}")
    out.append(f"  plan:    {field(f.plan, limit)}")
    out += fact_lines(group_facts(g, limit))
    out.append(f"  affects: {g.size} resources")
    listed = g.findings if max_addresses is None else g.findings[:max_addresses]
    out.extend(f"    {member_line(m, g, limit)}" for m in listed)
    if len(listed) < g.size:
        out.append(f"    ... and {g.size - len(listed)} more")
    out.append(f"  shown for: {field(f.address, limit)}")
    out += explanation_lines(f, c, limit)
    # Fixes name lines: members whose fixes differ from the lead's get theirs listed (at most 10).
    lead_key = fixes_key(f)
    others = [m for m in listed[1:] if fixes_key(m) != lead_key]
    for m in others[:10]:
        out.append(f"  fixes for {field(m.address, limit)}:")
        out.extend(fix_lines(m.fixes, limit=limit))
    if len(others) > 10:
        out.append(f"  ... and {len(others) - 10} more resources with fixes of their own (see the JSON report)")
    return out


def fixes_key(f: Finding) -> tuple:
    """What tells one finding's fixes from another's: titles, snippets and locations."""
    return tuple((x.title, x.snippet, x.location.file if x.location else None,
                  x.location.line if x.location else None) for x in f.fixes)


def group_reference(g: Group, limit: int | None = None) -> str:
    """One line that ties a finding to the others of its group, for formats that list findings."""
    root = f": {field(g.root, limit)}" if g.root else ""
    return f"group {g.id}, one cause for {g.size} resources{root}"
