"""The versioned JSON report; its schema ships as guard/schemas/report.schema.json.

Versions (`report_version`): a minor step only adds; a major step may rename or remove.
- 1.0: findings, allowed, plans, notes, summary.
- 1.1: `groups` (findings that share one root cause); `summary.deleted_without_replacement`,
  `summary.destroyed`, `summary.causes`, `plans[].deleted_without_replacement`; `fix_command`.
  `summary.deleted` is kept, deprecated: it is `summary.deleted_without_replacement`, while
  `plans[].delete` counts every delete, replacements included (Terraform's "to destroy").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from .. import __version__
from ..findings import Finding
from ..report import Group, Report
from .base import Formatter, RenderOptions
from .safe import defuse_json, defuse_json_bytes

REPORT_VERSION = "1.1"


class ToolInfo(BaseModel):
    name: str = "replace-guard"
    version: str


class PlanInfo(BaseModel):
    """What one plan does, over managed resources, counted as Terraform's plan summary counts."""

    plan: str
    terraform_version: str | None
    format_version: str
    create: int = Field(description="changes that create an object, replacements included (Terraform's \"to add\")")
    update: int = Field(description="changes that update an object in place (\"to change\")")
    delete: int = Field(description="changes that destroy an object, replacements included (Terraform's \"to "
                                    "destroy\"); not the same as `deleted_without_replacement`")
    replace: int = Field(description="replacements: the object is destroyed and created again")
    deleted_without_replacement: int = Field(description="deletions that are not part of a replacement (since 1.1)")
    forget: int = Field(description="objects removed from the state and left running (`removed` blocks)")
    errored: bool
    sources: str | None


class Summary(BaseModel):
    errors: int
    warnings: int
    notices: int
    failing: int = Field(description="findings at or above fail_on")
    allowed: int
    causes: int = Field(description="root causes: the number of `groups` plus the findings in none (since 1.1)")
    replaced: int = Field(description="resources the plans replace")
    deleted_without_replacement: int = Field(description="resources the plans delete and do not create again "
                                                         "(since 1.1)")
    destroyed: int = Field(description="every object the plans destroy: `replaced` plus "
                                       "`deleted_without_replacement` (the sum of `plans[].delete`; since 1.1)")
    deleted: int = Field(description="deprecated since 1.1, removed in 2.0: the same number as "
                                     "`deleted_without_replacement`", deprecated=True)
    fail_on: str
    exit_code: int


class GroupInfo(BaseModel):
    """Findings of one rule in one plan that share one root cause: the explanation once, every address it hits."""

    id: str = Field(description="stable across runs: from the plan, rule, severity and group key")
    plan: str
    rule: str
    severity: str
    cause: str = Field(description="the kind of the root cause, e.g. `image_drift` (the findings' `cause`)")
    root: str | None = Field(description="the root cause in words (the findings' `root`)")
    key: str = Field(description="the findings' `group`")
    addresses: list[str] = Field(description="every address the cause hits, in the order of `findings`")
    fingerprints: list[str] = Field(description="the `fingerprint` of each of those findings, in the same order")


class JsonReport(BaseModel):
    report_version: str = REPORT_VERSION
    tool: ToolInfo
    summary: Summary
    findings: list[Finding] = Field(description="one per resource and rule; grouped in `groups` by root cause")
    groups: list[GroupInfo] = Field(description="findings that share one root cause (those with a `group` key); "
                                                "since 1.1")
    allowed: list[Finding] = Field(description="findings suppressed by allow entries")
    plans: list[PlanInfo]
    notes: list[str]
    fix_command: str | None = Field(None, description="the command that fixes what the report found, when there is "
                                                      "one (since 1.1)")


def group_info(g: Group) -> GroupInfo:
    return GroupInfo(id=g.id, plan=g.plan, rule=g.rule, severity=g.severity.value, cause=g.cause, root=g.root,
                     key=g.key or "", addresses=g.addresses, fingerprints=[f.fingerprint for f in g.findings])


def build(report: Report) -> JsonReport:
    return JsonReport(
        tool=ToolInfo(version=__version__),
        summary=Summary(
            errors=report.count("error"), warnings=report.count("warning"), notices=report.count("notice"),
            failing=len(report.failing()), allowed=len(report.suppressed), causes=len(report.groups),
            replaced=report.replaced, deleted_without_replacement=report.deleted_without_replacement,
            destroyed=report.destroyed, deleted=report.deleted_without_replacement,
            fail_on=report.fail_on, exit_code=report.exit_code),
        findings=report.findings,
        groups=[group_info(g) for g in report.shared_groups],
        allowed=report.suppressed,
        plans=[PlanInfo(plan=p.label, terraform_version=p.terraform_version, format_version=p.format_version,
                        create=p.create, update=p.update, delete=p.delete, replace=p.replace,
                        deleted_without_replacement=p.deleted_without_replacement, forget=p.forget,
                        errored=p.errored, sources=p.sources) for p in report.plans],
        notes=report.notes,
        fix_command=report.fix_command,
    )


def report_schema() -> dict[str, Any]:
    return JsonReport.model_json_schema(mode="serialization")


class JsonFormat(Formatter):
    name = "json"

    def render(self, report: Report, options: RenderOptions) -> str:
        return defuse_json(build(report).model_dump_json(indent=2)) + "\n"

    def render_bytes(self, report: Report, options: RenderOptions) -> Iterator[bytes]:
        """`render`, as UTF-8 pieces made one finding at a time.

        20,000 findings make 90 MB of JSON. Serialised at once, the document took twice that
        while it was made, and again as text and when encoded on the way out. Here the document
        is serialised with an empty `findings` list, and the list is written in its place, one
        finding after the other, each indented as it sits in the document (the same bytes:
        outside strings, which keep newlines escaped, a newline only starts an indented line)."""
        document = build(report)
        findings, document.findings = document.findings, []
        try:
            head = JsonReport.__pydantic_serializer__.to_json(document, indent=2)
        finally:
            document.findings = findings
        marker = b'\n  "findings": [],'
        at = head.find(marker)
        if at < 0 or not findings:  # pragma: no cover - the field is always there; empty: as it is
            yield defuse_json_bytes(JsonReport.__pydantic_serializer__.to_json(document, indent=2))
            yield b"\n"
            return
        yield defuse_json_bytes(head[:at] + b'\n  "findings": [')
        serializer = Finding.__pydantic_serializer__
        sep = b"\n    "
        for i, finding in enumerate(findings):
            piece = serializer.to_json(finding, indent=2).replace(b"\n", b"\n    ")
            yield defuse_json_bytes((b"," if i else b"") + sep + piece)
        yield defuse_json_bytes(b"\n  ]," + head[at + len(marker):])
        yield b"\n"


def write_schema(path: str) -> None:
    """Regenerate the shipped schema: `python -m guard.format.json_report guard/schemas/report.schema.json`."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **report_schema()}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    import sys

    write_schema(sys.argv[1] if len(sys.argv) > 1 else "guard/schemas/report.schema.json")
