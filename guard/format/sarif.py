"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF reader).

- every rule the tool has is described (`tool.driver.rules`), not only those that fired, so a
  reader can show help for an alert that a later run no longer reports;
- a result's location is the `.tf` line the finding points at; without sources it is the plan
  file, line 1 (code scanning drops results that have no location);
- `partialFingerprints` carries the finding's fingerprint (rule, address, forcing paths; not
  lines or values), so code scanning keeps one alert per problem across runs;
- findings allowed by the config are reported as suppressed, not left out;
- one result per finding (code scanning shows each on its line); findings that share one root
  cause say so in their message and carry the group in `properties.group` (`id`, `rule`,
  `cause`, `root`, `size`), the same id as the JSON report's `groups`.

Message texts and notes are plan text made safe by the sanitiser (`safe`); `properties` keep
addresses and paths exactly as the plan has them (JSON-escaped), for tools to match on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..findings import Finding, action_words
from ..report import Group, Report
from .base import Formatter, RenderOptions
from .common import dumps_indented, indented_items, plan_file, repo_path
from .plain import chain_inline, group_reference, message_lines
from .safe import defuse_json, field

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "replaceGuardFinding/v1"
LEVEL = {"error": "error", "warning": "warning", "notice": "note"}
# GitHub sorts non-security alerts by `problem.severity`: error, warning or recommendation.
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "notice": "recommendation"}


def _fence(text: str) -> str:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def rule_descriptor(rule) -> dict:
    """A reportingDescriptor from a rule's documentation attributes."""
    level = LEVEL[rule.severity.value]
    advice = getattr(rule, "advice_table", None)
    advice_text = advice() if callable(advice) else ""
    text_parts = [f"{rule.id} {rule.name} (default: {rule.severity.value})", rule.summary,
                  "Why it matters:\n" + rule.why, "Example:\n" + rule.example, "Fix:\n" + rule.fix]
    example_fence = _fence(rule.example)
    md_parts = [f"**{rule.id} {rule.name}** (default: {rule.severity.value}): {rule.summary}",
                "#### Why it matters", rule.why,
                "#### Example", f"{example_fence}hcl\n{rule.example}\n{example_fence}",
                "#### Fix", rule.fix]
    if advice_text:
        text_parts.append("Advice per attribute:\n" + advice_text)
        fence = _fence(advice_text)
        md_parts += ["#### Advice per attribute", f"{fence}\n{advice_text}\n{fence}"]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": "\n\n".join(text_parts), "markdown": "\n\n".join(md_parts)},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["terraform", "reliability"], "problem.severity": PROBLEM_SEVERITY[rule.severity.value]},
    }


def artifact_location(path: str) -> dict:
    """A relative path -> a URI reference against %SRCROOT%; an absolute one -> a file: URI."""
    p = Path(path)
    if p.is_absolute():
        return {"uri": p.as_uri()}
    return {"uri": quote(p.as_posix(), safe="/"), "uriBaseId": SRCROOT}


def message_text(text: str) -> str:
    """SARIF plain-text messages read `[text](n)` as a link: escape brackets when one could form."""
    if "](" in text:
        text = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return text


def result_text(f: Finding, group: Group | None = None) -> str:
    lines = message_lines(f)
    if group is not None and group.size > 1:
        lines.append(group_reference(group))
    if f.chain:
        lines.append("Why: " + chain_inline(f.chain))
    for i, fix in enumerate(f.fixes, 1):
        lines.append(f"Fix {i}: {field(fix.title)}" + (f": {field(fix.detail)}" if fix.detail else ""))
    return message_text("\n".join(lines))


def physical_location(file: str, line: int) -> dict:
    return {"artifactLocation": artifact_location(file), "region": {"startLine": max(1, line)}}


def result(f: Finding, rule_index: dict[str, int], group: Group | None = None) -> dict:
    location: dict = {}
    if f.location is not None:
        location["physicalLocation"] = physical_location(repo_path(f.location.file), f.location.line)
    elif (plan := plan_file(f)) is not None:
        location["physicalLocation"] = physical_location(plan, 1)
    location["logicalLocations"] = [{"fullyQualifiedName": f.address, "kind": "resource"}]
    out: dict = {"ruleId": f.rule}
    if f.rule in rule_index:
        out["ruleIndex"] = rule_index[f.rule]
    out.update({
        "level": LEVEL[f.severity.value],
        "message": {"text": result_text(f, group)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    })
    related = []
    for i, link in enumerate(f.chain):
        if link.location is not None:
            related.append({"id": i + 1,
                            "physicalLocation": physical_location(repo_path(link.location.file), link.location.line),
                            "message": {"text": message_text(field(link.label()))}})
    if related:
        out["relatedLocations"] = related
    if f.allowed_by:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": field(f.allowed_by)}]
    out["properties"] = {
        "address": f.address,
        "actions": list(f.actions),
        "action": action_words(f.actions),
        "replace_paths": f.replace_paths,
        "plan": f.plan,
    }
    if group is not None and group.shared:
        out["properties"]["group"] = {"id": group.id, "rule": group.rule, "cause": group.cause,
                                      "root": group.root, "size": group.size}
    return out


def iter_results(report: Report) -> Iterator[dict]:
    from ..rules import ALL_RULES

    rule_index = {rule.id: i for i, rule in enumerate(ALL_RULES)}
    for f in report.findings:
        yield result(f, rule_index, report.group_of.get(id(f)))
    for f in report.suppressed:
        yield result(f, rule_index)


def build(report: Report, with_results: bool = True) -> dict:
    from ..rules import ALL_RULES

    rules = [rule_descriptor(rule) for rule in ALL_RULES]
    results = list(iter_results(report)) if with_results else []
    notifications = [{"message": {"text": message_text(field(note))}, "level": "note"} for note in report.notes]
    invocation: dict = {"executionSuccessful": True}
    if notifications:
        invocation["toolConfigurationNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "replace-guard", "version": __version__,
                                "semanticVersion": __version__, "rules": rules}},
            "invocations": [invocation],
            "results": results,
        }],
    }


class SarifFormat(Formatter):
    name = "sarif"

    def render(self, report: Report, options: RenderOptions) -> str:
        return defuse_json(dumps_indented(build(report), ensure_ascii=False)) + "\n"

    def render_bytes(self, report: Report, options: RenderOptions) -> Iterator[bytes]:
        """`render`, one result at a time (20,000 results: 70 MB of SARIF, and their dicts, never
        held at once): the document with no results, and the list written in its place."""
        head = dumps_indented(build(report, with_results=False), ensure_ascii=False)
        marker = '\n      "results": []'
        at = head.find(marker)
        if at < 0 or not (report.findings or report.suppressed):
            yield (defuse_json(head) + "\n").encode("utf-8")
            return
        yield defuse_json(head[:at] + '\n      "results": [').encode("utf-8")
        for piece in indented_items(iter_results(report), 8):
            yield defuse_json(piece).encode("utf-8")
        yield (defuse_json("\n      ]" + head[at + len(marker):]) + "\n").encode("utf-8")
