"""The real-plan harness keeps its promises: each scenario's plan holds the facts it is for.

Plan facts only (actions, action_reason, replace_paths, resource_drift, where values sit);
what the guard makes of them is tested elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import realtf

REPLACE = ["delete", "create"]


def changes(built) -> dict[str, dict]:
    return {rc["address"]: rc for rc in built.plan()["resource_changes"]}


def facts(rc: dict) -> tuple:
    return rc["change"]["actions"], rc.get("action_reason"), rc["change"].get("replace_paths")


def drift(built) -> dict[str, list[str]]:
    return {d["address"]: d["change"]["actions"] for d in built.plan().get("resource_drift", [])}


def prior_data(built, address: str) -> dict:
    resources = built.plan()["prior_state"]["values"]["root_module"]["resources"]
    return next(r["values"] for r in resources if r["address"] == address)


def only_no_ops(built) -> bool:
    return all(rc["change"]["actions"] == ["no-op"] for rc in built.plan()["resource_changes"])


def test_skip_reason_names_what_is_missing(monkeypatch):
    monkeypatch.setenv("REPLACE_GUARD_TERRAFORM", "/nonexistent/terraform")
    assert "terraform binary" in realtf.skip_reason()


def scenario_regions(spec: dict) -> set[str]:
    regions = {spec["region"], spec.get("plan", {}).get("env", {}).get("AWS_REGION", spec["region"])}
    for step in spec.get("before_apply", []) + spec.get("after_apply", []):
        regions.update(step.get("regions", []))
    return regions


def test_scenarios_that_apply_use_regions_of_their_own():
    """One moto server serves all scenarios: a region is a scenario's private account."""
    owner: dict[str, str] = {}
    for name in realtf.scenario_names():
        spec = realtf.load_spec(name)
        if "from" in spec:
            assert spec["region"] == realtf.load_spec(spec["from"])["region"], name
            continue
        for region in scenario_regions(spec):
            assert region not in owner, f"{name} and {owner.get(region)} both use {region}"
            owner[region] = name


def test_every_scenario_built(real_plans):
    assert not real_plans.failed, "\n\n".join(real_plans.failed.values())
    assert {"ami_drift", "region_switch", "deletion", "launch_template"} <= set(real_plans)
    for built in real_plans.values():
        assert built.planfile_path.read_bytes()[:4] == b"PK\x03\x04"
        plan = built.plan()
        assert plan["terraform_version"] and plan["format_version"].startswith("1.")
        assert (built.dir / "provider.tf").is_file() and (built.dir / ".terraform").is_dir()


def test_binary_plan_shows_in_its_folder_with_a_plain_environment(real_plans):
    """What the guard does with a binary plan: no harness CLI config, no dev override."""
    built = real_plans["ami_drift"]
    terraform = realtf.find_terraform()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["TF_CLI_CONFIG_FILE"] = str(built.dir / "no-such.tfrc")
    shown = subprocess.run([terraform, "show", "-json", built.planfile_path.name], cwd=built.dir,
                           env=env, capture_output=True, check=True, timeout=300)
    fresh, kept = json.loads(shown.stdout), built.plan()
    fresh.pop("timestamp"), kept.pop("timestamp")
    assert fresh == kept


@pytest.mark.parametrize("scenario", ["ami_drift", "ami_drift_local"])
def test_ami_drift_replaces_the_instance(real_plans, scenario):
    built = real_plans[scenario]
    rc = changes(built)["aws_instance.app"]
    assert facts(rc) == (REPLACE, "replace_because_cannot_update", [["ami"]])
    assert rc["change"]["before"]["ami"] == built.values["old"]
    assert rc["change"]["after"]["ami"] == built.values["new"]
    # The data source read at plan time sits in prior_state only, with its new value.
    image = prior_data(built, "data.aws_ami.al2")
    assert image["id"] == built.values["new"] and image["name"] == "amzn2-ami-hvm-2.0.20240201-x86_64-gp2"
    assert image["most_recent"] is True and image["creation_date"]
    assert not any(a.startswith("data.") for a in changes(built))


def test_ami_drift_local_goes_through_a_local(real_plans):
    config = real_plans["ami_drift_local"].plan()["configuration"]["root_module"]
    instance = next(r for r in config["resources"] if r["address"] == "aws_instance.app")
    assert instance["expressions"]["ami"]["references"] == ["local.app_ami"]


def test_create_before_destroy_reverses_the_actions(real_plans):
    rc = changes(real_plans["ami_drift_cbd"])["aws_instance.app"]
    assert facts(rc) == (["create", "delete"], "replace_because_cannot_update", [["ami"]])


@pytest.mark.parametrize("scenario", ["ami_drift_ignore", "ami_drift_pinned"])
def test_ami_drift_fixes_leave_the_instance(real_plans, scenario):
    built = real_plans[scenario]
    assert only_no_ops(built)
    assert changes(built)["aws_instance.app"]["change"]["before"]["ami"] == built.values["old"]


def test_ami_drift_module_replaces_both_keys(real_plans):
    built = real_plans["ami_drift_module"]
    got = {a: facts(rc) for a, rc in changes(built).items()}
    assert got == {
        'module.app["blue"].aws_instance.this': (REPLACE, "replace_because_cannot_update", [["ami"]]),
        'module.app["green"].aws_instance.this': (REPLACE, "replace_because_cannot_update", [["ami"]]),
    }
    call = built.plan()["configuration"]["root_module"]["module_calls"]["app"]
    assert "data.aws_ami.al2.id" in call["expressions"]["ami_id"]["references"]


def test_ssm_parameter_ami_is_sensitive(real_plans):
    built = real_plans["ssm_ami"]
    rc = changes(built)["aws_instance.app"]
    assert facts(rc) == (REPLACE, "replace_because_cannot_update", [["ami"]])
    assert rc["change"]["after_sensitive"]["ami"] is True and rc["change"]["before_sensitive"]["ami"] is True
    assert rc["change"]["after"]["ami"] == built.values["new"]  # in clear text all the same
    parameter = prior_data(built, "data.aws_ssm_parameter.ami")
    assert parameter["value"] == parameter["insecure_value"] == built.values["new"]
    assert only_no_ops(real_plans["ssm_ami_same"])


def test_ami_ids_and_snapshot_replace(real_plans):
    built = real_plans["ami_ids_snapshot"]
    got = changes(built)
    assert facts(got["aws_instance.app"]) == (REPLACE, "replace_because_cannot_update", [["ami"]])
    assert got["aws_instance.app"]["change"]["after"]["ami"] == built.values["new"]
    assert facts(got["aws_ebs_volume.data"]) == (REPLACE, "replace_because_cannot_update", [["snapshot_id"]])
    assert got["aws_ebs_volume.data"]["change"]["after"]["snapshot_id"] == built.values["new_snapshot"]
    assert prior_data(built, "data.aws_ami_ids.al2")["ids"][0] == built.values["new"]


def test_deferred_read(real_plans):
    got = changes(real_plans["deferred_read"])
    assert facts(got["data.aws_ami.al2"]) == (["read"], "read_because_dependency_pending", None)
    rc = got["aws_instance.app"]
    assert facts(rc) == (REPLACE, "replace_because_cannot_update", [["ami"]])
    assert rc["change"]["after_unknown"]["ami"] is True and "ami" not in rc["change"]["after"]
    assert got["terraform_data.release"]["change"]["actions"] == ["update"]

    calm = changes(real_plans["deferred_read_nodep"])
    assert calm["aws_instance.app"]["change"]["actions"] == ["no-op"]
    assert "data.aws_ami.al2" not in calm


def test_region_switch_vanishes_and_creates_again(real_plans):
    built = real_plans["region_switch"]
    assert drift(built) == {"aws_instance.app": ["delete"]}
    gone = built.plan()["resource_drift"][0]["change"]["before"]
    assert gone["availability_zone"] == "eu-central-1a" and ":eu-central-1:" in gone["arn"]
    assert facts(changes(built)["aws_instance.app"]) == (["create"], None, None)
    assert ":us-west-2:" in prior_data(built, "data.aws_ami.al2")["arn"]

    same = real_plans["region_same"]
    assert drift(same) == {} and only_no_ops(same)


def test_code_change_causes(real_plans):
    got = {a: facts(rc) for a, rc in changes(real_plans["code_change"]).items()}
    assert got == {
        "aws_instance.sg_change": (REPLACE, "replace_because_cannot_update", [["security_groups"]]),
        "aws_instance.user_data": (REPLACE, "replace_because_cannot_update", [["user_data"]]),
        "aws_instance.ami_var": (REPLACE, "replace_because_cannot_update", [["ami"]]),
        "aws_instance.tainted": (REPLACE, "replace_because_tainted", None),
        "aws_instance.by_request": (REPLACE, "replace_by_request", None),
        "aws_instance.triggered": (REPLACE, "replace_by_triggers", None),
        "aws_instance.tagged": (["update"], None, None),
        "terraform_data.rev": (["update"], None, None),
        "aws_security_group.a": (["no-op"], None, None),
        "aws_security_group.b": (["no-op"], None, None),
    }


def test_deletions(real_plans):
    got = {a: facts(rc)[:2] for a, rc in changes(real_plans["deletion"]).items()
           if rc["change"]["actions"] != ["no-op"]}
    assert got == {
        "aws_ebs_volume.scratch": (["delete"], "delete_because_no_resource_config"),
        "aws_instance.old": (["delete"], "delete_because_no_resource_config"),
        "aws_ebs_volume.pool[2]": (["delete"], "delete_because_count_index"),
        'aws_ebs_volume.by_name["b"]': (["delete"], "delete_because_each_key"),
        "module.worker.aws_ebs_volume.cache": (["delete"], "delete_because_no_resource_config"),
        "aws_instance.kept": (["forget"], "delete_because_no_resource_config"),
    }
    assert only_no_ops(real_plans["deletion_none"])


def test_launch_templates_update_in_place(real_plans):
    built = real_plans["launch_template"]
    got = changes(built)
    for name in ("web", "api"):
        lt = got[f"aws_launch_template.{name}"]["change"]
        assert lt["actions"] == ["update"]
        assert (lt["before"]["image_id"], lt["after"]["image_id"]) == (built.values["old"], built.values["new"])
        assert got[f"aws_autoscaling_group.{name}"]["change"]["actions"] == ["update"]
    worker = got["aws_launch_template.worker"]["change"]
    assert worker["actions"] == ["update"] and worker["before"]["user_data"] != worker["after"]["user_data"]
    assert got["aws_autoscaling_group.worker"]["change"]["actions"] == ["no-op"]
    asgs = {r["address"]: r for r in built.plan()["configuration"]["root_module"]["resources"]}
    assert "instance_refresh" in asgs["aws_autoscaling_group.api"]["expressions"]
    assert "instance_refresh" not in asgs["aws_autoscaling_group.web"]["expressions"]
