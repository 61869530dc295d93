"""The config file and --allow: severities, extra stateful types, allow entries with expiry."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from guard.cli import cli
from handmade import ami_drift_plan, write


def run(args: list[str], cwd: Path):
    """Run the CLI in `cwd`, where it looks for its config file."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(old)


def test_without_config_the_ami_drift_fails(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 1
    assert [f["rule"] for f in json.loads(result.output)["findings"]] == ["TFG001"]


def test_severity_override_in_dot_file(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('[severity]\nTFG001 = "warning"\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"][0]["severity"] == "warning"
    assert run(["check", str(plan), "--fail-on", "warning"], tmp_path).exit_code == 1


def test_rule_off_in_pyproject(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.replace-guard.severity]\nTFG001 = "off"\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0
    assert json.loads(result.output)["findings"] == []


def test_allow_entry_suppresses_and_is_reported(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.*"\nrule = "TFG001"\nreason = "rebuilt nightly anyway"\n'
        'expires = 2999-01-01\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["findings"] == []
    assert report["allowed"][0]["allowed_by"].endswith("rebuilt nightly anyway")


def test_expired_allow_entry_stops_applying_and_says_so(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.app"\nreason = "temporary"\nexpires = 2020-01-31\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 1
    assert "expired on 2020-01-31" in result.output


def test_allow_option_with_rule(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    assert run(["check", str(plan), "--allow", "aws_instance.app:TFG002"], tmp_path).exit_code == 1
    assert run(["check", str(plan), "--allow", "aws_instance.app:TFG001"], tmp_path).exit_code == 0
    assert run(["check", str(plan), "--allow", "aws_instance.*"], tmp_path).exit_code == 0


def test_extra_stateful_types_are_accepted(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('stateful-types = ["aws_cloudformation_stack"]\n')
    assert run(["check", str(plan)], tmp_path).exit_code == 1


def test_unknown_key_is_exit_2_naming_key_and_file(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('[severty]\nTFG001 = "warning"\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml" in result.output and "severty" in result.output


def test_bad_value_names_the_key(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    cfg = tmp_path / "guard.toml"
    cfg.write_text('[[allow]]\naddress = "x"\n')
    result = run(["check", str(plan), "--config", str(cfg)], tmp_path)
    assert result.exit_code == 2
    assert "guard.toml" in result.output and "reason" in result.output
    cfg.write_text('[severity]\nTFG001 = "fatal"\n')
    result = run(["check", str(plan), "--config", str(cfg)], tmp_path)
    assert result.exit_code == 2 and "severity.TFG001" in result.output


def test_broken_toml_is_exit_2(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text("severity = [\n")
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2 and "not valid TOML" in result.output
