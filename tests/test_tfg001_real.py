"""TFG001 on real plans: real Terraform + AWS provider against moto, a newer AMI published."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest


def guard(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=300)


def line_of(path: Path, pattern: str) -> int:
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.search(pattern, line):
            return no
    raise AssertionError(f"{pattern!r} not in {path}")


def plan_facts(plan_json: Path, address: str) -> dict:
    plan = json.loads(plan_json.read_text(encoding="utf-8"))
    rc = next(r for r in plan["resource_changes"] if r["address"] == address)
    data = next(r for r in plan["prior_state"]["values"]["root_module"]["resources"] if r["address"] == "data.aws_ami.al2")
    return {"old": rc["change"]["before"]["ami"], "new": data["values"]["id"], "name": data["values"]["name"],
            "created": data["values"]["creation_date"], "actions": rc["change"]["actions"]}


def test_ami_drift_fails_with_the_whole_explanation(real_plans):
    built = real_plans["ami_drift"]
    facts = plan_facts(built.plan_json_path, "aws_instance.app")
    assert facts["old"] != facts["new"]
    result = guard("check", str(built.plan_json_path), "-C", str(built.dir))
    out = result.stdout.decode()
    assert result.returncode == 1, out + result.stderr.decode()
    assert "TFG001" in out and "aws_instance.app" in out
    assert "destroy, then create a replacement" in out
    assert f"ami: {facts['old']} -> {facts['new']}" in out
    assert facts["name"] in out and facts["created"] in out
    main_tf = built.dir / "main.tf"
    ami_line = line_of(main_tf, r"^\s*ami\s*=\s*data\.aws_ami\.al2\.id")
    data_line = line_of(main_tf, r'^data "aws_ami" "al2"')
    assert f"/main.tf:{ami_line}]" in out
    assert f"/main.tf:{data_line}]" in out
    assert "most_recent = true" in out and "amzn2-ami-hvm-*" in out
    assert f'ami = "{facts["old"]}"' in out  # the pin, with the AMI the instance runs now
    assert "ignore_changes = [ami]" in out
    assert "user_data" in out


def test_ami_drift_json_report(real_plans):
    built = real_plans["ami_drift"]
    result = guard("check", str(built.plan_json_path), "-C", str(built.dir), "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    [finding] = doc["findings"]
    assert finding["rule"] == "TFG001" and finding["severity"] == "error"
    assert finding["actions"] == ["delete", "create"] and finding["replace_paths"] == [["ami"]]
    assert [link["ref"] for link in finding["chain"]] == ["aws_instance.app.ami", "data.aws_ami.al2"]
    assert finding["location"]["file"].endswith("main.tf")
    assert finding["chain"][1]["details"][0] == "most_recent = true"


@pytest.mark.parametrize("scenario", ["ami_drift_ignore", "ami_drift_pinned"])
def test_ignore_changes_or_pinned_ami_passes(real_plans, scenario):
    built = real_plans[scenario]
    result = guard("check", str(built.plan_json_path), "-C", str(built.dir), "--format", "json")
    assert result.returncode == 0, result.stdout.decode()
    doc = json.loads(result.stdout)
    assert doc["findings"] == [] and doc["summary"]["replaced"] == 0


def test_module_for_each_instances_trace_through_the_module_input(real_plans):
    built = real_plans["ami_drift_module"]
    result = guard("check", str(built.plan_json_path), "-C", str(built.dir), "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    addresses = sorted(f["address"] for f in doc["findings"])
    assert addresses == ['module.app["blue"].aws_instance.this', 'module.app["green"].aws_instance.this']
    chain = doc["findings"][0]["chain"]
    assert [link["ref"] for link in chain] == ["aws_instance.this.ami", "var.ami_id", "module.app.ami_id", "data.aws_ami.al2"]
    assert chain[0]["location"]["file"].endswith("modules/app/main.tf")
    assert chain[2]["location"]["file"].endswith("main.tf") and "modules" not in chain[2]["location"]["file"]
    pin = doc["findings"][0]["fixes"][0]
    assert pin["snippet"].startswith('ami_id = "ami-')


def test_create_before_destroy_is_named(real_plans):
    built = real_plans["ami_drift_cbd"]
    result = guard("check", str(built.plan_json_path), "-C", str(built.dir))
    assert result.returncode == 1
    assert "create a replacement, then destroy (create_before_destroy)" in result.stdout.decode()


def test_local_value_is_followed_with_sources_and_stops_without(real_plans, tmp_path):
    built = real_plans["ami_drift_local"]
    result = guard("check", str(built.plan_json_path), "-C", str(built.dir), "--format", "json")
    assert result.returncode == 1
    chain = json.loads(result.stdout)["findings"][0]["chain"]
    refs = [link["ref"] for link in chain]
    assert refs[0] == "aws_instance.app.ami" and refs[-1] == "data.aws_ami.al2" and "local.app_ami" in refs
    local = chain[refs.index("local.app_ami")]
    assert local["location"]["line"] == line_of(built.dir / local["location"]["file"].split("/")[-1], r"^\s*app_ami\s*=")

    # Without the .tf sources the plan alone cannot resolve the local: the chain stops there and
    # says so, and the data source is recognised by the value it read.
    alone = tmp_path / "plan.json"
    alone.write_bytes(built.plan_json_path.read_bytes())
    result = guard("check", str(alone), "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    chain = json.loads(result.stdout)["findings"][0]["chain"]
    assert [link["ref"] for link in chain] == ["aws_instance.app.ami", "local.app_ami", "data.aws_ami.al2"]
    assert "-C DIR" in chain[1]["note"] and "matched by value" in chain[2]["note"]
    assert all(link["location"] is None for link in chain)


def test_binary_plan_and_stdin_give_the_same_findings(real_plans):
    built = real_plans["ami_drift"]
    base = json.loads(guard("check", str(built.plan_json_path), "-C", str(built.dir), "--format", "json").stdout)
    binary = guard("check", str(built.planfile_path), "-C", str(built.dir), "--format", "json")
    assert binary.returncode == 1, binary.stderr.decode()
    stdin = guard("check", "-", "-C", str(built.dir), "--format", "json", stdin=built.plan_json_path.read_bytes())
    assert stdin.returncode == 1
    for other in (json.loads(binary.stdout), json.loads(stdin.stdout)):
        assert [(f["rule"], f["address"], f["chain"]) for f in other["findings"]] == \
               [(f["rule"], f["address"], f["chain"]) for f in base["findings"]]


def test_explain_shows_the_chain(real_plans):
    built = real_plans["ami_drift"]
    result = guard("explain", str(built.plan_json_path), "aws_instance.app", "-C", str(built.dir))
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "aws_instance.app.ami" in out and "data.aws_ami.al2" in out and "TFG001" in out
    missing = guard("explain", str(built.plan_json_path), "aws_instance.nope")
    assert missing.returncode == 2 and b"aws_instance.app" in missing.stderr


def test_codequality_report_points_at_the_tf_line(real_plans):
    built = real_plans["ami_drift"]
    result = guard("check", "plan.json", "-C", ".", "--format", "codequality", cwd=built.dir)
    assert result.returncode == 1
    (issue,) = json.loads(result.stdout)
    line = line_of(built.dir / "main.tf", r"^\s*ami\s*=\s*data\.aws_ami\.al2\.id")
    assert issue["check_name"] == "replace-guard/TFG001/ami-drift" and issue["severity"] == "critical"
    assert issue["location"] == {"path": "main.tf", "lines": {"begin": line}}
    assert len(issue["fingerprint"]) >= 32 and "aws_instance.app" in issue["description"]
