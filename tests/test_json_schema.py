"""The JSON report is versioned and documented by the schema shipped in the package."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
from click.testing import CliRunner
from handmade import ami_drift_plan, write

from guard.cli import cli
from guard.format.json_report import REPORT_VERSION, report_schema


def shipped_schema() -> dict:
    return json.loads(resources.files("guard").joinpath("schemas/report.schema.json").read_text(encoding="utf-8"))


def test_shipped_schema_matches_the_model():
    shipped = shipped_schema()
    generated = report_schema()
    shipped.pop("$schema", None)
    assert shipped == json.loads(json.dumps(generated, sort_keys=True)), (
        "regenerate it: python -m guard.format.json_report guard/schemas/report.schema.json")


def test_report_validates_and_has_the_stable_fields(tmp_path):
    plan = write(tmp_path, ami_drift_plan("module.app[\"blue\"].aws_instance.this", module="app"))
    result = CliRunner().invoke(cli, ["check", str(plan), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    jsonschema.Draft202012Validator(shipped_schema()).validate(doc)
    assert doc["report_version"] == REPORT_VERSION
    finding = doc["findings"][0]
    for key in ("rule", "severity", "address", "actions", "replace_paths", "chain", "message", "fixes", "location"):
        assert key in finding
    assert finding["address"] == 'module.app["blue"].aws_instance.this'
    assert [link["ref"] for link in finding["chain"]] == [
        "aws_instance.this.ami", "var.ami_id", "module.app.ami_id", "data.aws_ami.al2"]
    assert doc["summary"]["errors"] == 1 and doc["summary"]["replaced"] == 1 and doc["summary"]["exit_code"] == 1


def test_schema_rejects_a_report_missing_findings(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    doc = json.loads(CliRunner().invoke(cli, ["check", str(plan), "--format", "json"]).output)
    del doc["findings"]
    errors = list(jsonschema.Draft202012Validator(shipped_schema()).iter_errors(doc))
    assert errors
