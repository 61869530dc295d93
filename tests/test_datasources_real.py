"""Data sources by what they read, and module instances that go away, on real plans
(Terraform 1.11 + the AWS provider against moto; tests/scenarios/remote_state*, identity_switch,
module_shrink)."""

from __future__ import annotations

import json
import subprocess
import sys

import realtf


def guard(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def check(built, *args: str) -> tuple[int, dict]:
    result = guard(built.dir, "check", "plan.json", "-C", ".", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def by_address(doc: dict) -> dict[str, dict]:
    return {f["address"]: f for f in doc["findings"]}


def change(built, address: str) -> dict:
    return next(rc for rc in built.plan()["resource_changes"] if rc["address"] == address)


def test_another_stacks_output_is_drift_with_the_values_shown(real_plans, tmp_path):
    built = real_plans["remote_state"]
    old, new = built.values["old"], built.values["new"]
    code, doc = check(built)
    finding = by_address(doc)["aws_instance.app"]
    assert code == 1 and finding["rule"] == "TFG002" and finding["severity"] == "error"
    assert finding["cause"] == "world_drift"
    # The plan holds both ids unmarked: the reviewer sees them.
    assert finding["values"] == [{"path": "ami", "before": old, "after": new}]
    assert finding["facts"]["other_stack_backend"] == "local"
    assert finding["facts"]["other_stack_output"] == "ami_id"
    assert "the other stack was applied" in finding["message"]
    fixes = json.dumps(finding["fixes"])
    assert "reviewed variable" in fixes and f'ami = \\"{old}\\"' in fixes
    # ... but never the other stack's sensitive output
    everything = guard(built.dir, "check", "plan.json", "-C", ".", "--format", "markdown").stdout \
        + guard(built.dir, "explain", "plan.json", "aws_instance.app", "-C", ".").stdout
    assert "remote-state-secret-token" not in everything and new in everything


def test_the_other_stack_applied_with_the_same_value_is_silent(real_plans):
    code, doc = check(real_plans["remote_state_same"])
    assert code == 0 and doc["findings"] == []


def test_identity_data_source_change_is_the_wrong_region_story(real_plans):
    built = real_plans["identity_switch"]
    code, doc = check(built)
    found = by_address(doc)
    stamp = found["terraform_data.stamp"]
    assert code == 1 and stamp["rule"] == "TFG002" and stamp["cause"] == "identity_change"
    assert "another account or region" in stamp["title"]
    assert stamp["values"] == [{"path": "triggers_replace", "before": '["eu-south-1"]', "after": '["eu-south-2"]'}]
    assert "AWS_REGION" in json.dumps(stamp["fixes"])
    volume = found["aws_ebs_volume.data"]
    assert volume["rule"] == "TFG004"
    # TFG004 takes the region now from the identity data source
    assert volume["facts"]["region_now"] == "eu-south-2 (data.aws_region.current.name)"


def test_variable_default_changed_in_the_code(real_plans):
    built = real_plans["module_shrink"]
    _, doc = check(built)
    finding = by_address(doc)["aws_ebs_volume.logs"]
    assert finding["rule"] == "TFG010" and finding["severity"] == "warning"
    assert finding["cause"] == "variable_change"
    line = next(no for no, text in enumerate((built.dir / "main.tf").read_text().splitlines(), 1)
                if "default = true" in text)
    assert f"whose default in the code changed (main.tf:{line})" in finding["message"]
    assert "set by -var" not in finding["message"]


def test_module_instances_gone_get_a_fix_terraform_accepts(real_plans, moto_server, tmp_path):
    built = real_plans["module_shrink"]
    code, doc = check(built)
    found = by_address(doc)
    assert code == 0  # warnings
    disk, keyed = found["module.disk[1].aws_ebs_volume.v"], found['module.keyed["b"].aws_ebs_volume.v']
    assert change(built, "module.disk[1].aws_ebs_volume.v")["action_reason"] == "delete_because_no_module"
    assert "smaller count" in disk["message"] and "module.disk[1]" in disk["message"]
    assert 'key "b" is no longer in the for_each of module.keyed' in keyed["message"]
    for finding in (disk, keyed):
        assert finding["rule"] == "TFG011" and finding["severity"] == "warning"
        text = json.dumps(finding["fixes"])
        assert "removed {" not in text  # Terraform rejects a removed block for a module call that still exists
        assert "module removed" not in finding["title"]
    snippets = [f["snippet"] for f in disk["fixes"] + keyed["fixes"] if f.get("snippet", "").startswith("terraform ")]
    assert snippets == ["terraform state rm 'module.disk[1].aws_ebs_volume.v'",
                        "terraform state rm 'module.keyed[\"b\"].aws_ebs_volume.v'"]
    # Apply the fixes and plan again: nothing is destroyed, the guard has nothing to say about them.
    commands = [s.split(" ", 1)[1] for s in snippets]
    again = realtf.rerun(built, moto_server, tmp_path, "module_shrink_fixed", commands=[
        ("state", "rm", c.split("'")[1]) for c in commands])
    actions = {rc["address"]: rc["change"]["actions"] for rc in again.plan()["resource_changes"]}
    assert actions.get("module.disk[1].aws_ebs_volume.v") is None
    assert actions.get('module.keyed["b"].aws_ebs_volume.v') is None
    _, doc = check(again)
    assert not [f for f in doc["findings"] if f["rule"] == "TFG011"]
