"""The versioned JSON report; its schema ships as guard/schemas/report.schema.json."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .. import __version__
from ..analyze import Report
from ..findings import Finding
from .base import Formatter, RenderOptions

REPORT_VERSION = "1.0"


class ToolInfo(BaseModel):
    name: str = "replace-guard"
    version: str


class PlanInfo(BaseModel):
    plan: str
    terraform_version: str | None
    format_version: str
    create: int
    update: int
    delete: int
    replace: int
    forget: int
    errored: bool
    sources: str | None


class Summary(BaseModel):
    errors: int
    warnings: int
    notices: int
    failing: int = Field(description="findings at or above fail_on")
    allowed: int
    replaced: int = Field(description="resources the plans replace")
    deleted: int = Field(description="resources the plans delete without replacing")
    fail_on: str
    exit_code: int


class JsonReport(BaseModel):
    report_version: str = REPORT_VERSION
    tool: ToolInfo
    summary: Summary
    findings: list[Finding]
    allowed: list[Finding] = Field(description="findings suppressed by allow entries")
    plans: list[PlanInfo]
    notes: list[str]


def build(report: Report) -> JsonReport:
    return JsonReport(
        tool=ToolInfo(version=__version__),
        summary=Summary(
            errors=report.count("error"), warnings=report.count("warning"), notices=report.count("notice"),
            failing=len(report.failing()), allowed=len(report.suppressed),
            replaced=sum(p.replace for p in report.plans),
            deleted=sum(p.delete - p.replace for p in report.plans),
            fail_on=report.fail_on, exit_code=report.exit_code),
        findings=report.findings,
        allowed=report.suppressed,
        plans=[PlanInfo(plan=p.label, terraform_version=p.terraform_version, format_version=p.format_version,
                        create=p.create, update=p.update, delete=p.delete, replace=p.replace, forget=p.forget,
                        errored=p.errored, sources=p.sources) for p in report.plans],
        notes=report.notes,
    )


def report_schema() -> dict:
    return JsonReport.model_json_schema(mode="serialization")


class JsonFormat(Formatter):
    name = "json"

    def render(self, report: Report, options: RenderOptions) -> str:
        # `##[` occurs only inside strings; `#\u0023[` reads back the same and is no runner command.
        return build(report).model_dump_json(indent=2).replace("##[", "#\\u0023[") + "\n"


def write_schema(path: str) -> None:
    """Regenerate the shipped schema: `python -m guard.format.json_report guard/schemas/report.schema.json`."""
    import json

    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **report_schema()}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    import sys

    write_schema(sys.argv[1] if len(sys.argv) > 1 else "guard/schemas/report.schema.json")
