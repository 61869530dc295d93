"""JUnit XML, as CircleCI's `store_test_results`, GitLab's `reports: junit` and Jenkins read it.

One `<testsuite>` per plan; one `<testcase>` per finding, with `<failure>` when the finding is at
or above --fail-on (a finding below it passes and carries its text in `<system-out>`); a
finding allowed by the config is `<skipped>`; a plan without findings gets one passing testcase.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..analyze import Report
from ..findings import FAIL_LEVELS, Finding, action_words
from .base import Formatter, RenderOptions
from .common import finding_file, plain_message, rule_name
from .text import clean, one_line

# Characters XML 1.0 cannot carry at all (even as references); shown as \xNN instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}", text)


def body(f: Finding) -> str:
    """What a reader of the test report needs: the text report's view of one finding."""
    lines = [f"{f.severity.value} {f.rule} {one_line(f.title)}",
             f"plan: {one_line(f.plan)}",
             f"action: {action_words(f.actions)}" + (f" [{one_line(f.action_reason)}]" if f.action_reason else "")]
    file, line = finding_file(f)
    if file is not None:
        lines.append(f"where: {one_line(file)}:{line}")
    for v in f.values:
        lines.append(f"change: {one_line(v.path)}: {one_line(v.before or '')} -> {one_line(v.after or '')}")
    if f.chain:
        lines.append("why:")
        for i, link in enumerate(f.chain):
            where = f"  [{one_line(link.location.file)}:{link.location.line}]" if link.location else ""
            expr = f"  {one_line(link.expression)}" if link.expression else ""
            lines.append(f"  {'   ' if i == 0 else '<- '}{one_line(link.label())}{where}{expr}")
            lines.extend(f"       {one_line(d)}" for d in link.details)
    for para in plain_message(f).split("\n"):
        lines.append("| " + clean(para))
    for i, fix in enumerate(f.fixes, 1):
        lines.append(f"fix {i}: {one_line(fix.title)}" + (f": {one_line(fix.detail)}" if fix.detail else ""))
        if fix.snippet:
            lines.extend(f"    | {clean(s)}" for s in fix.snippet.split("\n"))
    return "\n".join(lines)


def _case(suite: ET.Element, f: Finding, failing: bool) -> tuple[bool, bool]:
    name = rule_name(f.rule)
    attrs = {"classname": f"replace-guard.{f.rule}" + (f".{name}" if name else ""), "name": f.address, "time": "0"}
    file, line = finding_file(f)
    if file is not None:
        attrs["file"] = file
        attrs["line"] = str(line)
    case = ET.SubElement(suite, "testcase", {k: xml_text(v) for k, v in attrs.items()})
    text = xml_text(body(f))
    if f.allowed_by:
        ET.SubElement(case, "skipped", {"message": xml_text(f"allowed: {f.allowed_by}")})
        ET.SubElement(case, "system-out").text = text
        return False, True
    if failing:
        failure = ET.SubElement(case, "failure", {"message": xml_text(f.message or f.title), "type": f.rule})
        failure.text = text
        return True, False
    ET.SubElement(case, "system-out").text = text
    return False, False


def build(report: Report) -> ET.Element:
    level = FAIL_LEVELS[report.fail_on]
    labels = [p.label for p in report.plans]
    for f in report.findings + report.suppressed:
        if f.plan not in labels:
            labels.append(f.plan)
    root = ET.Element("testsuites", {"name": "replace-guard"})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for label in labels:
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(f"replace-guard {label}")})
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        kept = [f for f in report.findings if f.plan == label]
        for f in kept + [f for f in report.suppressed if f.plan == label]:
            failed, skipped = _case(suite, f, f.severity.rank >= level)
            counts["tests"] += 1
            counts["failures"] += failed
            counts["skipped"] += skipped
        if not kept:
            ET.SubElement(suite, "testcase", {"classname": "replace-guard", "time": "0",
                                              "name": xml_text(f"{label}: no resource destroyed or replaced unasked")})
            counts["tests"] += 1
        suite.attrib.update({"tests": str(counts["tests"]), "failures": str(counts["failures"]),
                             "errors": "0", "skipped": str(counts["skipped"]), "time": "0"})
        for key in totals:
            totals[key] += counts[key]
    root.attrib.update({"tests": str(totals["tests"]), "failures": str(totals["failures"]),
                        "errors": "0", "skipped": str(totals["skipped"]), "time": "0"})
    return root


def _log_safe(xml: str) -> str:
    """Keep plan text from acting as a runner command if the XML is printed to a CI log.

    ElementTree writes newlines in attributes as `&#10;`, but keeps them in text. A text line
    that starts with `::` gets its first colon as `&#58;`, and `##[` becomes `#&#35;[`: the
    same text for an XML reader.
    """
    xml = xml.replace("##[", "#&#35;[")
    out = []
    for line in xml.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("::"):
            line = line[: len(line) - len(stripped)] + "&#58;" + stripped[1:]
        out.append(line)
    return "\n".join(out)


class JunitFormat(Formatter):
    name = "junit"

    def render(self, report: Report, options: RenderOptions) -> str:
        root = build(report)
        ET.indent(root, space="  ")
        text = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + _log_safe(text) + "\n"
