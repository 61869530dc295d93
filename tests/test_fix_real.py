"""`replace-guard fix` proved by planning again: on real plans (Terraform 1.11 + the AWS provider
against moto), `fix --write`, then `terraform validate`, then a new plan against the same moto
state: nothing the guard reported is replaced any more, and `check` on the new plan passes.

The shapes: an image straight from the data source (ami_drift), through a module input with
for_each module instances (ami_drift_module), through a local (ami_drift_local), and
engine_patterns (for_each values, keyed data sources, a trigger fed by the image, a module output,
user_data carrying the image, a conditional, chained locals); and modules the user does not own
(community_modules: a pin on the call, the module's own switch with a moved block).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import realtf


def guard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def reported(built, level: str = "error") -> set[str]:
    result = guard(built.dir, "check", "plan.json", "-C", ".", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return {f["address"] for f in json.loads(result.stdout)["findings"] if f["severity"] == level}


def actions(built) -> dict[str, list[str]]:
    return {rc["address"]: rc["change"]["actions"] for rc in built.plan()["resource_changes"]}


def fix_and_plan(built, moto_server, tmp_path, *fix_args: str):
    """Copy the workspace, run `fix --write` there, validate, plan again."""
    log: dict[str, subprocess.CompletedProcess] = {}

    def edit(path: Path) -> None:
        log["fix"] = guard(path, "fix", str(built.plan_json_path), "-C", ".", "--write", *fix_args)

    again = realtf.rerun(built, moto_server, tmp_path, built.name + "_fixed", edit=edit,
                         commands=[("validate", "-no-color")])
    return again, log["fix"]


@pytest.mark.parametrize("name", ["ami_drift", "ami_drift_module", "ami_drift_local", "engine_patterns"])
def test_fix_write_then_plan_again_replaces_nothing(real_plans, moto_server, tmp_path, name):
    built = real_plans[name]
    before = reported(built)
    assert before, "the scenario replaces instances the guard reports"
    again, fixed = fix_and_plan(built, moto_server, tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    for address in before:
        line = next(ln for ln in fixed.stderr.splitlines() if f" {address}: " in ln)
        assert line.endswith(": applied"), line
    now = actions(again)
    replaced = {a for a in before if "delete" in now.get(a, [])}
    assert not replaced, f"still replaced after fix --write: {replaced}"
    result = guard(again.dir, "check", "plan.json", "-C", ".")
    assert result.returncode == 0, result.stdout


def test_fix_without_write_prints_a_diff_git_applies(real_plans, tmp_path):
    built = real_plans["engine_patterns"]
    result = guard(built.dir, "fix", "plan.json", "-C", ".")
    assert result.returncode == 0, result.stderr
    diff = result.stdout
    assert diff.startswith("--- a/main.tf\n+++ b/main.tf\n")
    # one line per finding on standard error, saying which fix it takes
    assert 'TFG001 aws_instance.by_value["web"]: Pin the AMI the instance runs now (pin): in the diff' in result.stderr
    assert 'TFG001 aws_instance.by_role["api"]' in result.stderr and "(ignore)" in result.stderr
    # nothing was written, and git applies the diff to a copy of the folder
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(built.dir), str(copy)], check=True)
    original = (copy / "main.tf").read_text()
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    applied = subprocess.run(["git", "apply", "-"], cwd=copy, input=diff, text=True, capture_output=True)
    assert applied.returncode == 0, applied.stderr
    assert (copy / "main.tf").read_text() != original
    assert (built.dir / "main.tf").read_text() == original


def test_fix_twice_changes_nothing_the_second_time(real_plans, tmp_path):
    built = real_plans["engine_patterns"]
    copy = tmp_path / "twice"
    subprocess.run(["cp", "-r", str(built.dir), str(copy)], check=True)
    first = guard(copy, "fix", "plan.json", "-C", ".", "--write")
    assert first.returncode == 0, first.stderr
    text = {p.name: p.read_text() for p in copy.glob("*.tf")}
    second = guard(copy, "fix", "plan.json", "-C", ".", "--write")
    assert {p.name: p.read_text() for p in copy.glob("*.tf")} == text
    assert second.stdout == "" or "edited" not in second.stderr


def test_call_site_fixes_for_a_module_from_outside_the_repository(real_plans, moto_server, tmp_path):
    built = real_plans["community_modules"]
    before = reported(built)
    assert before == {"module.local_ec2.aws_instance.this[0]", "module.git_ec2.aws_instance.this[0]",
                      "module.ssm_ec2.aws_instance.this[0]"}
    # auto: pins on the calls (the git module's files are never touched)
    again, fixed = fix_and_plan(built, moto_server, tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert ".terraform" not in fixed.stderr
    now = actions(again)
    assert not {a for a in before if "delete" in now.get(a, [])}, now
    assert guard(again.dir, "check", "plan.json", "-C", ".").returncode == 0


def test_module_switch_with_moved_block_keeps_the_instance(real_plans, moto_server, tmp_path):
    built = real_plans["community_modules"]
    again, fixed = fix_and_plan(built, moto_server, tmp_path, "--strategy", "ignore",
                                "--address", "module.git_ec2.*")
    assert fixed.returncode == 0, fixed.stderr
    text = (again.dir / "main.tf").read_text()
    assert "ignore_ami_changes = true" in text and "moved {" in text
    rc = next(r for r in again.plan()["resource_changes"]
              if r["address"] == "module.git_ec2.aws_instance.ignore_ami[0]")
    assert rc.get("previous_address") == "module.git_ec2.aws_instance.this[0]"
    assert "delete" not in rc["change"]["actions"]
    assert "module.git_ec2.aws_instance.this[0]" not in actions(again)


def test_switch_without_moved_block_pairs_the_delete_with_the_create(real_plans, moto_server, tmp_path):
    built = real_plans["community_modules"]

    def switch_only(path: Path) -> None:
        main = path / "main.tf"
        main.write_text(main.read_text().replace('  name   = "git"\n', '  name   = "git"\n  ignore_ami_changes = true\n'))

    again = realtf.rerun(built, moto_server, tmp_path, "community_switch_only", edit=switch_only)
    assert actions(again)["module.git_ec2.aws_instance.this[0]"] == ["delete"]
    result = guard(again.dir, "check", "plan.json", "-C", ".", "--format", "json")
    finding = next(f for f in json.loads(result.stdout)["findings"]
                   if f["address"] == "module.git_ec2.aws_instance.this[0]")
    assert finding["rule"] == "TFG011"
    assert finding["facts"]["possible_new_address"] == "module.git_ec2.aws_instance.ignore_ami[0]"
    assert "moved {\n  from = module.git_ec2.aws_instance.this[0]\n  to   = module.git_ec2.aws_instance.ignore_ami[0]\n}" \
        in json.dumps(finding["fixes"]).replace("\\n", "\n")
