"""JUnit XML, as CircleCI's `store_test_results`, GitLab's `reports: junit` and Jenkins read it.

One `<testsuite>` per plan; one `<testcase>` per finding, with `<failure>` when the finding is at
or above --fail-on (a finding below it passes and carries its text in `<system-out>`); a
finding allowed by the config is `<skipped>`; a plan without findings gets one passing testcase.

A test report lists tests, so findings that share one root cause stay one testcase each (each
fails on its own); their text names the group and its root, the same id as the JSON report's
`groups`. Every piece of plan text goes through the sanitiser (`safe`), names included; what XML
1.0 cannot hold at all is shown as an escape.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from ..findings import FAIL_LEVELS, Finding
from ..report import Group, Report
from .base import Formatter, RenderOptions
from .common import finding_file, rule_name
from .plain import finding_body, group_reference, heading
from .safe import defuse_log, field

# Characters XML 1.0 cannot carry at all (even as references); shown as \xNN instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                        else f"\\u{ord(m.group(0)):04x}", text)


def body(f: Finding, group: Group | None = None) -> str:
    """What a reader of the test report needs: the text report's view of one finding."""
    lines = [heading(f)]
    if group is not None and group.size > 1:
        lines.append(f"  {group_reference(group)}")
    lines += finding_body(f)
    return "\n".join(line.removeprefix("  ") for line in lines)


def _case(suite: ET.Element, f: Finding, failing: bool, group: Group | None = None) -> tuple[bool, bool]:
    name = rule_name(f.rule)
    attrs = {"classname": f"replace-guard.{field(f.rule)}" + (f".{name}" if name else ""), "name": field(f.address),
             "time": "0"}
    file, line = finding_file(f)
    if file is not None:
        attrs["file"] = field(file)
        attrs["line"] = str(line)
    case = ET.SubElement(suite, "testcase", {k: xml_text(v) for k, v in attrs.items()})
    text = xml_text(body(f, group))
    if f.allowed_by:
        ET.SubElement(case, "skipped", {"message": xml_text(f"allowed: {field(f.allowed_by)}")})
        ET.SubElement(case, "system-out").text = text
        return False, True
    if failing:
        failure = ET.SubElement(case, "failure", {"message": xml_text(field(f.message or f.title)),
                                                  "type": field(f.rule)})
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
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(f"replace-guard {field(label)}")})
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        kept = [f for f in report.findings if f.plan == label]
        for f in kept + [f for f in report.suppressed if f.plan == label]:
            failed, skipped = _case(suite, f, f.severity.rank >= level, report.group_of.get(id(f)))
            counts["tests"] += 1
            counts["failures"] += failed
            counts["skipped"] += skipped
        if not kept:
            ET.SubElement(suite, "testcase",
                          {"classname": "replace-guard", "time": "0",
                           "name": xml_text(f"{field(label)}: no resource destroyed or replaced unasked")})
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
    return defuse_log(xml, hash_sub="#&#35;[", colon_sub="&#58;")


def _open_tag(tag: str, attrs: dict[str, str]) -> str:
    """`<tag a="...">` as ElementTree writes it (attribute values escape `>`)."""
    element = ET.Element(tag, attrs)
    element.text = "x"
    text = ET.tostring(element, encoding="unicode")
    return text[: text.index(">") + 1]


class JunitFormat(Formatter):
    name = "junit"

    def render(self, report: Report, options: RenderOptions) -> str:
        root = build(report)
        ET.indent(root, space="  ")
        text = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + _log_safe(text) + "\n"

    def render_bytes(self, report: Report, options: RenderOptions) -> Iterator[bytes]:
        """`render`, one testcase at a time (20,000 testcases: an element tree, 55 MB of XML and
        its copies were held at once). The counts go first, so each suite is written as it is
        made; every piece starts a line, so `_log_safe` works piece by piece."""
        level = FAIL_LEVELS[report.fail_on]
        labels = [p.label for p in report.plans]
        kept: dict[str, list[Finding]] = {label: [] for label in labels}
        allowed: dict[str, list[Finding]] = {label: [] for label in labels}
        for f in report.findings:
            kept.setdefault(f.plan, []).append(f)
            allowed.setdefault(f.plan, [])
        for f in report.suppressed:
            allowed.setdefault(f.plan, []).append(f)
            kept.setdefault(f.plan, [])
        labels = list(kept)
        if not labels:
            yield self.render(report, options).encode("utf-8")
            return
        counts = {}
        totals = {"tests": 0, "failures": 0, "skipped": 0}
        for label in labels:
            cases = kept[label] + allowed[label]
            c = {"tests": len(cases) + (0 if kept[label] else 1),
                 "failures": sum(1 for f in cases if not f.allowed_by and f.severity.rank >= level),
                 "skipped": sum(1 for f in cases if f.allowed_by)}
            counts[label] = c
            for key in totals:
                totals[key] += c[key]

        def numbers(c: dict[str, int]) -> dict[str, str]:
            return {"tests": str(c["tests"]), "failures": str(c["failures"]), "errors": "0",
                    "skipped": str(c["skipped"]), "time": "0"}

        def out(text: str) -> bytes:
            return _log_safe(text).encode("utf-8")

        yield out('<?xml version="1.0" encoding="UTF-8"?>\n'
                  + _open_tag("testsuites", {"name": "replace-guard", **numbers(totals)}) + "\n")
        for label in labels:
            attrs = {"name": xml_text(f"replace-guard {field(label)}"), **numbers(counts[label])}
            yield out("  " + _open_tag("testsuite", attrs) + "\n")
            for f in kept[label] + allowed[label]:
                holder = ET.Element("testsuite")
                _case(holder, f, f.severity.rank >= level, report.group_of.get(id(f)))
                yield out("    " + _element(holder[0]) + "\n")
            if not kept[label]:
                case = ET.Element("testcase", {"classname": "replace-guard", "time": "0", "name": xml_text(
                    f"{field(label)}: no resource destroyed or replaced unasked")})
                yield out("    " + _element(case) + "\n")
            yield out("  </testsuite>\n")
        yield out("</testsuites>\n")


def _element(element: ET.Element) -> str:
    """An element as the whole document writes it two levels deep (indented, without its tail)."""
    ET.indent(element, space="  ", level=2)
    element.tail = None
    return ET.tostring(element, encoding="unicode")
