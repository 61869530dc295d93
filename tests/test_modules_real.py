"""Modules the user does not own (tests/scenarios/community_modules): an instance module in the
style of the community ones, called from this repository's folder, from git (installed into
.terraform/modules), and with its own SSM lookup. Real plans: Terraform 1.11 + the AWS provider
against moto."""

from __future__ import annotations

import json
import subprocess
import sys


def guard(built, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=built.dir, capture_output=True, text=True,
                          timeout=300)


def findings(built) -> dict[str, dict]:
    result = guard(built, "check", "plan.json", "-C", ".", "--format", "json")
    assert result.returncode == 1, result.stderr
    return {f["address"]: f for f in json.loads(result.stdout)["findings"]}


def test_the_chain_reaches_the_callers_line_and_the_data_source(real_plans):
    built = real_plans["community_modules"]
    finding = findings(built)["module.git_ec2.aws_instance.this[0]"]
    assert finding["rule"] == "TFG001"
    refs = [(link["ref"], link["module"]) for link in finding["chain"]]
    assert refs == [("aws_instance.this.ami", "module.git_ec2"), ("local.image", "module.git_ec2"),
                    ("var.ami", "module.git_ec2"), ("module.git_ec2.ami", ""), ("data.aws_ami.base", "")]
    caller = finding["chain"][3]["location"]
    main = (built.dir / "main.tf").read_text().splitlines()
    call = next(no for no, line in enumerate(main, 1) if line.startswith('module "git_ec2"'))
    assert caller["file"] == "main.tf" and caller["line"] > call
    assert main[caller["line"] - 1].strip().startswith("ami") and "data.aws_ami.base.id" in main[caller["line"] - 1]
    assert "try(coalesce(var.ami" in finding["chain"][1]["expression"]


def test_every_fix_is_in_a_file_the_user_owns(real_plans):
    built = real_plans["community_modules"]
    for address, finding in findings(built).items():
        for fix in finding["fixes"]:
            for edit in fix["edits"]:
                assert ".terraform" not in edit["file"], (address, fix["title"])
            if address.startswith(("module.git_ec2", "module.ssm_ec2")):
                assert not (fix["location"] or {}).get("file", "").startswith(".terraform"), (address, fix["title"])
    git = findings(built)["module.git_ec2.aws_instance.this[0]"]
    text = json.dumps(git["fixes"])
    assert "`ignore_changes` cannot be set from outside a module" in text
    assert "ignore_ami_changes = true" in text and "to   = module.git_ec2.aws_instance.ignore_ami[0]" in text
    local = findings(built)["module.local_ec2.aws_instance.this[0]"]
    assert any(e["action"] == "ignore_changes" and e["file"] == "modules/ec2/main.tf"
               for fix in local["fixes"] for e in fix["edits"])


def test_values_the_code_declassifies_are_shown_and_a_count_zero_lookup_is_never_named(real_plans):
    built = real_plans["community_modules"]
    found = findings(built)
    ssm = found["module.ssm_ec2.aws_instance.this[0]"]
    assert ssm["rule"] == "TFG002" and ssm["facts"]["data_source"] == "module.ssm_ec2.data.aws_ssm_parameter.this[0]"
    assert ssm["values"] == [{"path": "ami", "before": built.values["old"], "after": built.values["new"]}]
    for address in ("module.git_ec2.aws_instance.this[0]", "module.local_ec2.aws_instance.this[0]"):
        # the module's lookup has count = 0 here: it is in the expression, never named as a source
        finding = found[address]
        assert "aws_ssm_parameter" not in json.dumps([finding["facts"], finding["root"], finding["message"],
                                                      [link["ref"] for link in finding["chain"]]])
    explained = guard(built, "explain", "plan.json", "module.ssm_ec2.aws_instance.this[0]", "-C", ".")
    assert explained.returncode == 0
    assert f"ami: {built.values['old']} -> {built.values['new']}" in explained.stdout
