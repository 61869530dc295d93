"""`check`'s output: colour (FORCE_COLOR, NO_COLOR, --no-color) and `--output` paths that must not
overwrite the run's own inputs, Terraform files or each other, and `-` for standard output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from handmade import ami_drift_plan, write

from guard.cli import cli

ESC = "\x1b["


def invoke(args: list[str], env: dict[str, str | None] | None = None, cwd: Path | None = None):
    base: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": None}
    base.update(env or {})
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, args, env=base)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        return runner.invoke(cli, args, env=base)


# -- colour ---------------------------------------------------------------------------------------------

def test_force_color_gives_colour_off_a_terminal(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    result = invoke(["check", str(plan)], {"FORCE_COLOR": "1"})
    assert result.exit_code == 1
    assert ESC + "31;1merror" in result.stdout


def test_without_force_color_a_pipe_gets_no_colour(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    assert ESC not in invoke(["check", str(plan)]).stdout
    assert ESC not in invoke(["check", str(plan)], {"FORCE_COLOR": "0"}).stdout


@pytest.mark.parametrize("env, args", [({"FORCE_COLOR": "1", "NO_COLOR": "1"}, []),
                                       ({"FORCE_COLOR": "1"}, ["--no-color"])])
def test_no_color_wins_over_force_color(tmp_path, env, args):
    plan = write(tmp_path, ami_drift_plan())
    result = invoke(["check", str(plan), *args], env)
    assert result.exit_code == 1 and "error TFG001" in result.stdout
    assert ESC not in result.output


def test_force_color_leaves_machine_formats_and_files_alone(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    result = invoke(["check", str(plan), "--format", "json", "--output", f"text={tmp_path / 'r.txt'}"],
                    {"FORCE_COLOR": "1"})
    json.loads(result.stdout)
    assert ESC not in result.stdout and ESC not in (tmp_path / "r.txt").read_text(encoding="utf-8")


# -- --output safety ------------------------------------------------------------------------------------

def _unchanged(path: Path, before: bytes) -> bool:
    return path.read_bytes() == before


def test_output_over_the_input_plan_is_refused(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    before = plan.read_bytes()
    for target in (str(plan), str(tmp_path / "." / "plan.json")):
        result = invoke(["check", str(plan), "--output", f"json={target}"])
        assert result.exit_code == 2, result.output
        assert "would overwrite a plan" in result.stderr and target in result.stderr
        assert _unchanged(plan, before)


def test_output_over_the_second_plan_through_a_relative_path_is_refused(tmp_path):
    a = write(tmp_path, ami_drift_plan(), "a.json")
    b = write(tmp_path, ami_drift_plan(), "b.json")
    before = b.read_bytes()
    result = invoke(["check", "a.json", "b.json", "--output", "sarif=./b.json"], cwd=tmp_path)
    assert result.exit_code == 2 and "would overwrite a plan" in result.stderr
    assert _unchanged(b, before) and a.is_file()


@pytest.mark.parametrize("name", ["main.tf", "stack.tofu", "prod.tfvars", "terraform.tfstate", "x.tf.json",
                                  ".replace-guard.toml", "pyproject.toml"])
def test_output_over_terraform_and_config_files_is_refused(tmp_path, name):
    plan = write(tmp_path, ami_drift_plan())
    target = tmp_path / name
    target.write_text("# keep me\n", encoding="utf-8")
    result = invoke(["check", str(plan), "--output", f"markdown={target}"], cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert str(target) in result.stderr and "fix:" in result.stderr
    assert target.read_text(encoding="utf-8") == "# keep me\n"


def test_output_over_the_config_given_with_config_is_refused(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    cfg = tmp_path / "guard-settings.toml"
    cfg.write_text('fail-on = "error"\n', encoding="utf-8")
    result = invoke(["check", str(plan), "--config", str(cfg), "--output", f"json={cfg}"])
    assert result.exit_code == 2 and "would overwrite the config file" in result.stderr
    assert cfg.read_text(encoding="utf-8") == 'fail-on = "error"\n'


def test_the_same_output_path_twice_is_refused_before_writing(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    out = tmp_path / "report.out"
    result = invoke(["check", str(plan), "--output", f"json={out}", "--output", "sarif=report.out"], cwd=tmp_path)
    assert result.exit_code == 2 and "same place" in result.stderr
    assert not out.exists()
    result = invoke(["check", str(plan), "--output", "json=-", "--output", "sarif=-"])
    assert result.exit_code == 2 and "same place" in result.stderr


def test_dash_means_standard_output_and_the_format_report_moves_to_stderr(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    result = invoke(["check", str(plan), "--output", "sarif=-"], cwd=tmp_path)
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)  # standard output holds one document: the SARIF
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "TFG001"
    assert "error TFG001" in result.stderr  # the text report, for the log
    assert not (tmp_path / "-").exists()


def test_reports_are_still_written_to_files(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    out = tmp_path / "out"
    out.mkdir()
    result = invoke(["check", str(plan), "--output", f"json={out / 'r.json'}", "--output", f"sarif={out / 'r.sarif'}"])
    assert result.exit_code == 1
    assert json.loads((out / "r.json").read_text(encoding="utf-8"))["findings"][0]["rule"] == "TFG001"
    assert json.loads((out / "r.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    result = invoke(["check", str(plan), "--output", f"json={out}"])
    assert result.exit_code == 2 and "folder" in result.stderr
