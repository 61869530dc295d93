"""TFG002-TFG020 on real plans: Terraform + the AWS provider against moto (tests/scenarios/).

Each rule fires on a scenario made for it, with the explanation a reviewer needs, and stays
silent on a scenario where the same resource changes harmlessly. The guard runs as a user runs
it: `python -m guard check plan.json -C DIR` in the scenario's folder.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

FORMATS = ("text", "json", "markdown", "sarif", "junit", "github", "gitlab", "codequality")


def guard(built, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=built.dir, capture_output=True,
                          text=True, timeout=300)


def check(built, *args: str) -> tuple[int, dict]:
    result = guard(built, "check", "plan.json", "-C", ".", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def text(built, *args: str) -> tuple[int, str]:
    result = guard(built, "check", "plan.json", "-C", ".", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout


def findings(report: dict, rule: str) -> dict[str, dict]:
    return {f["address"]: f for f in report["findings"] if f["rule"] == rule}


def change(built, address: str) -> dict:
    return next(rc for rc in built.plan()["resource_changes"] if rc["address"] == address)


def prior(built, address: str) -> dict:
    def walk(module):
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)
    return next(r for r in walk(built.plan()["prior_state"]["values"]["root_module"]) if r["address"] == address)


def line_of(path: Path, pattern: str) -> int:
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.search(pattern, line):
            return no
    raise AssertionError(f"{pattern!r} not in {path}")


def every_output(built, tmp_path: Path, addresses: list[str]) -> str:
    """Everything the guard can print for this plan: every format (stdout and --output files) and
    `explain` for the given addresses."""
    outs = []
    for fmt in FORMATS:
        target = tmp_path / f"report.{fmt}"
        result = guard(built, "check", "plan.json", "-C", ".", "--format", fmt, "--output", f"{fmt}={target}")
        assert result.returncode in (0, 1), result.stderr
        outs += [result.stdout, result.stderr, target.read_text(encoding="utf-8")]
    for address in addresses:
        result = guard(built, "explain", "plan.json", address, "-C", ".")
        outs += [result.stdout, result.stderr]
    return "\n".join(outs)


# -- TFG002: data source drift ------------------------------------------------------------------
def test_tfg002_ssm_parameter_drift_is_explained_and_never_shows_the_value(real_plans, tmp_path):
    built = real_plans["ssm_ami"]
    rc = change(built, "aws_instance.app")
    assert rc["change"]["actions"] == ["delete", "create"] and rc["change"]["replace_paths"] == [["ami"]]
    param = prior(built, "data.aws_ssm_parameter.ami")["values"]
    secrets = {param["value"], param["insecure_value"], rc["change"]["before"]["ami"]}
    assert rc["change"]["before"]["ami"] != param["value"]

    code, report = check(built)
    assert code == 1
    finding = findings(report, "TFG002")["aws_instance.app"]
    assert finding["severity"] == "error"
    assert finding["actions"] == ["delete", "create"] and finding["replace_paths"] == [["ami"]]
    assert finding["values"] == [{"path": "ami", "before": "(sensitive)", "after": "(sensitive)"}]
    assert [link["ref"] for link in finding["chain"]] == ["aws_instance.app.ami", "data.aws_ssm_parameter.ami"]
    assert finding["chain"][-1]["location"] == {"file": "main.tf", "line": line_of(built.dir / "main.tf",
                                                                                   r'^data "aws_ssm_parameter"')}
    assert finding["facts"]["data_source"] == "data.aws_ssm_parameter.ami"
    assert "name = /golden/ami" in finding["facts"]["data_source_now"]
    assert "new value was written to the parameter" in finding["message"]
    assert "ignore_changes = [ami]" in json.dumps(finding["fixes"])

    code, out = text(built)
    assert "error TFG002 aws_instance.app" in out and "destroy, then create a replacement" in out
    assert "ami: (sensitive) -> (sensitive)" in out

    everything = every_output(built, tmp_path, ["aws_instance.app"])
    assert "aws_instance.app" in everything
    leaked = [s for s in secrets if s in everything]
    assert not leaked, f"secret values printed: {leaked}"


def test_tfg002_insecure_value_is_hidden_too_and_the_cascade_is_explained(real_plans, tmp_path):
    built = real_plans["ssm_insecure"]
    param = prior(built, "data.aws_ssm_parameter.ami")["values"]
    batch = change(built, "aws_instance.batch")
    assert batch["change"]["after_sensitive"].get("ami") is None  # the plan does not mark it
    secrets = {param["value"], param["insecure_value"], batch["change"]["before"]["ami"]}

    code, report = check(built)
    found = findings(report, "TFG002")
    assert code == 1 and set(found) == {"aws_instance.app", "aws_instance.batch", "aws_ebs_volume.app_data"}
    assert found["aws_instance.batch"]["values"][0]["before"].startswith("(hidden")
    assert "insecure_value" in found["aws_instance.batch"]["values"][0]["after"]

    volume = found["aws_ebs_volume.app_data"]
    assert volume["values"] == [{"path": "availability_zone", "before": "ca-central-1a", "after": "(known after apply)"}]
    assert [link["ref"] for link in volume["chain"]] == [
        "aws_ebs_volume.app_data.availability_zone", "aws_instance.app.availability_zone", "aws_instance.app.ami",
        "data.aws_ssm_parameter.ami"]
    assert "replaced by this plan" in volume["chain"][1]["note"]
    assert volume["facts"]["through"] == "aws_instance.app (replaced)"

    everything = every_output(built, tmp_path, ["aws_instance.app", "aws_ebs_volume.app_data"])
    leaked = [s for s in secrets if s in everything]
    assert not leaked, f"secret values printed: {leaked}"


def test_explain_never_shows_an_insecure_value(real_plans):
    built = real_plans["ssm_insecure"]
    param = prior(built, "data.aws_ssm_parameter.ami")["values"]
    batch = change(built, "aws_instance.batch")["change"]
    result = guard(built, "explain", "plan.json", "aws_instance.batch", "-C", ".")
    assert "aws_instance.batch" in result.stdout
    assert not [s for s in (param["insecure_value"], batch["before"]["ami"]) if s in result.stdout]


def test_tfg002_ami_ids_and_snapshot_lookups(real_plans):
    built = real_plans["ami_ids_snapshot"]
    inst = change(built, "aws_instance.app")["change"]
    vol = change(built, "aws_ebs_volume.data")["change"]
    code, report = check(built)
    found = findings(report, "TFG002")
    assert code == 1 and set(found) >= {"aws_instance.app", "aws_ebs_volume.data"}
    app = found["aws_instance.app"]
    assert app["values"] == [{"path": "ami", "before": inst["before"]["ami"], "after": inst["after"]["ami"]}]
    assert app["chain"][-1]["ref"] == "data.aws_ami_ids.al2"
    assert "sorted newest first" in app["message"]
    assert f'ami = "{inst["before"]["ami"]}"' in [fix["snippet"] for fix in app["fixes"]]  # pin what runs now
    data = found["aws_ebs_volume.data"]
    assert data["values"][0] == {"path": "snapshot_id", "before": vol["before"]["snapshot_id"],
                                 "after": vol["after"]["snapshot_id"]}
    assert data["chain"][-1]["ref"] == "data.aws_ebs_snapshot.data"
    assert "most_recent = true" in data["chain"][-1]["details"]


def test_tfg002_silent_when_the_parameter_is_written_again_unchanged(real_plans):
    built = real_plans["ssm_ami_same"]
    assert change(built, "aws_instance.app")["change"]["actions"] == ["no-op"]
    code, report = check(built)
    assert code == 0 and report["findings"] == []


# -- TFG003: deferred read ----------------------------------------------------------------------
def test_tfg003_module_depends_on_and_unknown_arguments(real_plans):
    built = real_plans["deferred_read_module"]
    plan = built.plan()
    reads = {rc["address"]: rc.get("action_reason") for rc in plan["resource_changes"] if rc["mode"] == "data"}
    assert reads == {"module.lookup.data.aws_ami.this": "read_because_dependency_pending",
                     "data.aws_ami.by_release": "read_because_config_unknown"}

    code, report = check(built)
    found = findings(report, "TFG003")
    assert code == 1 and set(found) == {"aws_instance.from_module", "aws_instance.by_release"}
    assert not findings(report, "TFG002")

    module = found["aws_instance.from_module"]
    before = change(built, "aws_instance.from_module")["change"]["before"]["ami"]
    assert module["values"] == [{"path": "ami", "before": before, "after": "(known after apply)"}]
    assert module["facts"]["data_source"] == "module.lookup.data.aws_ami.this"
    assert module["facts"]["read_reason"] == "read_because_dependency_pending (dependency pending)"
    assert module["facts"]["deferred_by"] == ("depends_on = [aws_security_group.app] on the call of module.lookup, "
                                              "which has changes pending: aws_security_group.app (update)")
    assert [link["ref"] for link in module["chain"]] == ["aws_instance.from_module.ami", "module.lookup.image_id",
                                                         "data.aws_ami.this"]
    remove = module["fixes"][0]
    assert remove["title"] == "Remove depends_on from the call of module.lookup"
    assert remove["location"] == {"file": "main.tf", "line": line_of(built.dir / "main.tf", r"^\s*depends_on")}

    unknown = found["aws_instance.by_release"]
    assert unknown["facts"]["read_reason"] == "read_because_config_unknown (arguments unknown until apply)"
    assert "terraform_data.release.output (update)" in unknown["facts"]["deferred_by"]
    assert "known at plan time" in unknown["fixes"][0]["title"]


def test_tfg003_silent_when_the_data_source_is_read_at_plan_time(real_plans):
    built = real_plans["deferred_read_nodep"]
    assert all(rc["mode"] == "managed" for rc in built.plan()["resource_changes"])
    code, report = check(built)
    assert code == 0 and report["findings"] == []


def test_tfg003_depends_on_a_changing_resource(real_plans):
    built = real_plans["deferred_read"]
    code, report = check(built)
    finding = findings(report, "TFG003")["aws_instance.app"]
    assert finding["facts"]["deferred_by"].startswith("depends_on = [terraform_data.release] on data.aws_ami.al2")
    assert not findings(report, "TFG001")


# -- TFG004: vanished resource ------------------------------------------------------------------
def test_tfg004_region_switch_names_both_regions(real_plans):
    built = real_plans["region_switch"]
    plan = built.plan()
    assert [(d["address"], d["change"]["actions"]) for d in plan["resource_drift"]] == [("aws_instance.app", ["delete"])]
    old_arn = plan["resource_drift"][0]["change"]["before"]["arn"]
    assert ":eu-central-1:" in old_arn

    code, report = check(built)
    finding = findings(report, "TFG004")["aws_instance.app"]
    assert code == 1 and finding["severity"] == "error" and finding["actions"] == ["create"]
    assert finding["facts"]["old_region"] == f"eu-central-1 (its ARN {old_arn})"
    assert finding["facts"]["region_now"].startswith("us-west-2 (data.aws_ami.al2")
    assert "eu-central-1 -> us-west-2" in finding["title"]
    assert "still there, in eu-central-1" in finding["message"]
    fixes = json.dumps(finding["fixes"])
    assert "AWS_REGION" in fixes and "AWS_PROFILE" in fixes and "Don't apply" in fixes
    assert "the provider block sets none" in fixes

    code, out = text(built)
    assert "error TFG004 aws_instance.app vanished because the region changed (eu-central-1 -> us-west-2)" in out


def test_tfg004_silent_in_the_same_region(real_plans):
    built = real_plans["region_same"]
    assert not built.plan().get("resource_drift")
    code, report = check(built)
    assert code == 0 and report["findings"] == []


# -- TFG010: stateful replacement with a visible cause ------------------------------------------
def test_tfg010_every_visible_cause(real_plans):
    built = real_plans["code_change"]
    code, report = check(built)
    found = findings(report, "TFG010")
    assert code == 0, "warnings do not fail under the default --fail-on error"
    assert set(found) == {"aws_instance.sg_change", "aws_instance.user_data", "aws_instance.ami_var",
                          "aws_instance.tainted", "aws_instance.by_request", "aws_instance.triggered"}
    assert all(f["severity"] == "warning" for f in found.values())

    sg = found["aws_instance.sg_change"]
    assert sg["values"] == [{"path": "security_groups", "before": '["code-change-a"]', "after": '["code-change-b"]'}]
    assert sg["facts"]["cause"] == "code change: security_groups"
    assert "vpc_security_group_ids" in json.dumps(sg["fixes"])
    assert sg["location"] == {"file": "main.tf", "line": line_of(built.dir / "main.tf", r"^\s*security_groups")}

    ud = found["aws_instance.user_data"]
    assert "the new value is a constant in the code" in ud["message"]
    assert "user_data_replace_on_change" in json.dumps(ud["fixes"])

    ami = found["aws_instance.ami_var"]
    old, new = built.values["old"], built.values["new"]
    assert ami["values"] == [{"path": "ami", "before": old, "after": new}]
    assert "root variable var.app_ami" in ami["message"]
    assert ami["facts"]["cause"] == "input variable change (var.app_ami): ami"

    assert found["aws_instance.tainted"]["facts"]["cause"] == "tainted"
    assert "terraform untaint 'aws_instance.tainted'" in json.dumps(found["aws_instance.tainted"]["fixes"])
    assert found["aws_instance.by_request"]["facts"]["cause"] == "-replace"
    assert found["aws_instance.by_request"]["replace_paths"] == []
    assert found["aws_instance.triggered"]["facts"]["triggered_by"] == "terraform_data.rev (update in this plan)"

    # harmless: the tag change on aws_instance.tagged is an update in place
    assert change(built, "aws_instance.tagged")["change"]["actions"] == ["update"]
    assert "aws_instance.tagged" not in {f["address"] for f in report["findings"]}


def test_tfg010_fails_ci_only_with_fail_on_warning(real_plans):
    built = real_plans["code_change"]
    code, out = text(built)
    assert code == 0 and "replace-guard ok" in out and "warning TFG010" in out
    code, out = text(built, "--fail-on", "warning")
    assert code == 1 and "replace-guard FAIL" in out


def test_tfg010_replacement_caused_by_another_replacement(real_plans):
    built = real_plans["code_change_cascade"]
    code, report = check(built)
    found = findings(report, "TFG010")
    assert code == 0 and set(found) == {"aws_instance.web", "aws_ebs_volume.web_data", "aws_ebs_volume.pinned"}
    volume = found["aws_ebs_volume.web_data"]
    assert volume["facts"]["cause"] == "replacement of aws_instance.web"
    assert volume["values"] == [{"path": "availability_zone", "before": "eu-north-1a", "after": "(known after apply)"}]
    assert [link["ref"] for link in volume["chain"]][:3] == [
        "aws_ebs_volume.web_data.availability_zone", "aws_instance.web.availability_zone",
        "aws_instance.web.security_groups"]
    assert "aws_instance.web is replaced by this plan" in volume["message"]
    pinned = found["aws_ebs_volume.pinned"]
    assert pinned["values"] == [{"path": "availability_zone", "before": "eu-north-1a", "after": "eu-north-1b"}]
    assert "constant in the code" in pinned["message"]


# -- TFG011: stateful deletion ------------------------------------------------------------------
def test_tfg011_each_reason_in_words_and_forget_as_notice(real_plans):
    built = real_plans["deletion"]
    code, report = check(built)
    found = findings(report, "TFG011")
    assert code == 0
    reasons = {a: f["action_reason"] for a, f in found.items()}
    assert reasons == {
        "aws_ebs_volume.scratch": "delete_because_no_resource_config",
        "aws_instance.old": "delete_because_no_resource_config",
        "aws_ebs_volume.pool[2]": "delete_because_count_index",
        'aws_ebs_volume.by_name["b"]': "delete_because_each_key",
        "module.worker.aws_ebs_volume.cache": reasons["module.worker.aws_ebs_volume.cache"],
        "aws_instance.kept": reasons["aws_instance.kept"],
    }
    assert reasons["module.worker.aws_ebs_volume.cache"] in ("delete_because_no_module",
                                                             "delete_because_no_resource_config")
    assert "beyond the new `count`" in found["aws_ebs_volume.pool[2]"]["message"]
    assert "for_each" in found['aws_ebs_volume.by_name["b"]']["message"]
    assert "no longer in the code" in found["aws_ebs_volume.scratch"]["message"]
    for address, finding in found.items():
        if address != "aws_instance.kept":
            assert finding["severity"] == "warning" and finding["actions"] == ["delete"]
    kept = found["aws_instance.kept"]
    assert kept["actions"] == ["forget"] and kept["severity"] == "notice"
    assert "object stays" in kept["message"]
    code, _ = text(built, "--fail-on", "warning")
    assert code == 1


def test_tfg011_rename_proposes_a_moved_block(real_plans):
    built = real_plans["code_change_cascade"]
    _, report = check(built)
    finding = findings(report, "TFG011")["aws_ebs_volume.old_name"]
    assert finding["facts"]["possible_new_address"] == "aws_ebs_volume.new_name"
    assert "moved {\n  from = aws_ebs_volume.old_name\n  to   = aws_ebs_volume.new_name\n}" in [
        fix["snippet"] for fix in finding["fixes"]]


def test_tfg011_silent_when_nothing_is_deleted(real_plans):
    built = real_plans["deletion_none"]
    code, report = check(built)
    assert code == 0 and report["findings"] == []


# -- TFG020: changes that reach only new instances ----------------------------------------------
def test_tfg020_launch_template_without_instance_refresh(real_plans):
    built = real_plans["launch_template"]
    code, report = check(built)
    found = findings(report, "TFG020")
    assert code == 0
    assert set(found) == {"aws_autoscaling_group.web", "aws_autoscaling_group.worker"}
    web = found["aws_autoscaling_group.web"]
    assert web["severity"] == "notice"
    assert web["values"] == [{"path": "image_id", "before": built.values["old"], "after": built.values["new"]}]
    assert web["facts"]["launch_template"] == "aws_launch_template.web"
    assert web["facts"]["instance_refresh"] == "no instance_refresh block"
    assert "launch_template[0].id = aws_launch_template.web.id" in web["facts"]["group_uses_template"]
    assert "keep the old settings" in web["message"]
    snippets = "\n".join(fix.get("snippet") or "" for fix in web["fixes"])
    assert "instance_refresh {" in snippets and "start-instance-refresh --auto-scaling-group-name web" in snippets
    worker = found["aws_autoscaling_group.worker"]
    assert worker["values"][0]["path"] == "user_data"
    assert "echo" not in json.dumps(worker)  # user data is described, not printed
    assert worker["facts"]["group_version"] == "$Latest"
    # harmless: api's group has an instance refresh, and its version follows the template
    assert change(built, "aws_launch_template.api")["change"]["actions"] == ["update"]
    assert "aws_autoscaling_group.api" not in found
