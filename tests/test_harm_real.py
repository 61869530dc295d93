"""Issue 11 (the harm beyond `-/+`) and launch template versions, on real plans: Terraform and the
AWS provider against moto (tests/scenarios/out_of_band, deploy, image_fleet and their twins).

Each story fails (or notes) with what a reviewer needs to act, and its twin, the same plan with
the change made in the code, does not fail. The guard runs as a user runs it: `python -m guard`
in the scenario's folder.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import hcl2


def guard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=300)


def check(built, *args: str) -> tuple[int, dict]:
    result = guard(built.dir, "check", "plan.json", "-C", ".", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(report: dict, rule: str) -> dict[str, dict]:
    return {f["address"]: f for f in report["findings"] if f["rule"] == rule}


def change(built, address: str) -> dict:
    return next(rc for rc in built.plan()["resource_changes"] if rc["address"] == address)


def drift(built, address: str) -> dict:
    return next(rc for rc in built.plan()["resource_drift"] if rc["address"] == address)


def line_of(path: Path, pattern: str, after: str | None = None) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if re.search(after, line))
    for no, line in enumerate(lines[start:], start + 1):
        if re.search(pattern, line):
            return no
    raise AssertionError(f"{pattern!r} not in {path}")


def fix(finding: dict, title_part: str) -> dict:
    return next(f for f in finding["fixes"] if title_part in f["title"])


# -- TFG005: changes made outside Terraform that apply undoes --------------------------------------
def test_tfg005_a_security_group_rule_added_by_hand_is_an_error_with_the_rule_as_hcl(real_plans):
    built = real_plans["out_of_band"]
    # the plan: the refresh saw the rule added with the API, and the update removes it again
    rules_now = drift(built, "aws_security_group.web")["change"]["after"]["ingress"]
    assert any(r["cidr_blocks"] == ["203.0.113.0/24"] and r["from_port"] == 22 for r in rules_now)
    planned = change(built, "aws_security_group.web")["change"]
    assert planned["actions"] == ["update"]
    assert [r["from_port"] for r in planned["after"]["ingress"]] == [443]

    code, report = check(built)
    assert code == 1
    finding = findings(report, "TFG005")["aws_security_group.web"]
    assert finding["severity"] == "error" and finding["actions"] == ["update"]
    assert finding["replace_paths"] == [["ingress"]] and finding["cause"] == "out_of_band_change"
    assert "changed outside Terraform" in finding["title"]
    assert "203.0.113.0/24" in finding["message"] and "apply removes" in finding["message"]
    assert finding["location"] == {"file": "main.tf", "line": line_of(built.dir / "main.tf", r"^\s*ingress \{")}
    # the rule made by hand, as a block the user can paste: exactly the one the twin adopted
    snippet = fix(finding, "write it into the code")["snippet"]
    block = hcl2.loads('resource "aws_security_group" "web" {\n' + snippet + "\n}\n")
    [pasted] = block["resource"][0]["aws_security_group"]["web"]["ingress"]
    adopted = hcl2.loads((real_plans["out_of_band_adopted"].dir / "main.tf").read_text())
    assert pasted in adopted["resource"][0]["aws_security_group"]["web"]["ingress"]
    # ignoring rules on a security group keeps whatever anyone adds: shown, never written by `fix`
    ignore = fix(finding, "Keep the running resource")
    assert ignore["edits"] == [] and ignore["strategy"] is None and "not advised" in ignore["title"]
    assert 'rule = "TFG005"' in fix(finding, "confirm the revert")["snippet"]


def test_tfg005_a_tag_added_by_hand_is_a_warning_and_the_refresh_noise_is_not_reported(real_plans):
    built = real_plans["out_of_band"]
    assert drift(built, "aws_ebs_volume.data")["change"]["after"]["tags"]["CostCenter"] == "cc-1234"
    # moto and the provider report harmless drift too: tags null -> {} on the instances and the secret
    noise = drift(built, "aws_instance.restarted")["change"]
    assert noise["before"]["tags"] is None and noise["after"]["tags"] == {}

    _, report = check(built)
    found = findings(report, "TFG005")
    assert set(found) == {"aws_security_group.web", "aws_ebs_volume.data"}
    volume = found["aws_ebs_volume.data"]
    assert volume["severity"] == "warning"
    assert "CostCenter = cc-1234" in volume["message"]
    assert volume["values"] == [{"path": "tags", "before": json.dumps({"CostCenter": "cc-1234", "Name": "h5-data"}),
                                 "after": json.dumps({"Name": "h5-data"})}]
    snippet = fix(volume, "write it into the code")["snippet"]
    assert hcl2.loads(snippet + "\n")["tags"] == {"CostCenter": "cc-1234", "Name": "h5-data"}
    ignore = fix(volume, "Keep the running resource")
    assert ignore["strategy"] == "ignore" and ignore["edits"][0]["text"] == "tags"
    assert ignore["edits"][0]["line"] == line_of(built.dir / "main.tf", r'^resource "aws_ebs_volume" "data"')

    result = guard(built.dir, "check", "plan.json", "-C", ".")
    out = result.stdout
    assert result.returncode == 1
    assert "error TFG005 aws_security_group.web was changed outside Terraform" in out
    assert "warning TFG005 aws_ebs_volume.data was changed outside Terraform" in out


# -- TFG012: replaced on every run --------------------------------------------------------------
def test_tfg012_timestamp_in_user_data_replaces_the_instance_on_every_apply(real_plans):
    built = real_plans["out_of_band"]
    rc = change(built, "aws_instance.stamped")
    assert rc["change"]["actions"] == ["delete", "create"] and rc["change"]["replace_paths"] == [["user_data"]]
    assert rc["change"]["after_unknown"]["user_data"] is True

    _, report = check(built)
    finding = findings(report, "TFG012")["aws_instance.stamped"]
    assert finding["severity"] == "warning" and finding["cause"] == "volatile"
    assert "on every apply" in finding["title"] and "timestamp()" in finding["title"]
    assert [link["ref"] for link in finding["chain"]] == ["aws_instance.stamped.user_data", "timestamp()"]
    assert finding["chain"][0]["location"]["line"] == line_of(built.dir / "main.tf", r"echo built at")
    assert "lost on every apply" in finding["message"]  # an instance holds data
    ignore = fix(finding, "Keep the running resource")
    assert ignore["strategy"] == "ignore" and ignore["edits"][0]["text"] == "user_data"
    assert 'resource "time_static"' in fix(finding, "time_static")["snippet"]
    assert "triggers_replace" in fix(finding, "terraform_data")["snippet"]
    # nothing else claims it
    assert all(f["address"] != "aws_instance.stamped" for f in report["findings"] if f["rule"] != "TFG012")


def test_tfg012_bcrypt_secret_version_never_prints_the_hash(real_plans, tmp_path):
    built = real_plans["out_of_band"]
    rc = change(built, "aws_secretsmanager_secret_version.app")
    assert rc["change"]["replace_paths"] == [["secret_string"]]
    secret = rc["change"]["before"]["secret_string"]
    assert secret.startswith("$2")

    _, report = check(built)
    finding = findings(report, "TFG012")["aws_secretsmanager_secret_version.app"]
    assert finding["chain"][-1]["ref"] == "bcrypt()"
    assert finding["values"] == [{"path": "secret_string", "before": "(sensitive)", "after": "(sensitive)"}]
    assert finding["group"] != findings(report, "TFG012")["aws_instance.stamped"]["group"]
    outs = []
    for fmt in ("text", "json", "markdown", "sarif", "junit", "github"):
        outs.append(guard(built.dir, "check", "plan.json", "-C", ".", "--format", fmt).stdout)
    outs.append(guard(built.dir, "explain", "plan.json", "aws_secretsmanager_secret_version.app", "-C", ".").stdout)
    assert secret not in "\n".join(outs)


def test_without_the_sources_a_function_cannot_be_seen_and_the_replacement_fails_as_not_proven(real_plans,
                                                                                              tmp_path):
    built = real_plans["out_of_band"]
    (tmp_path / "plan.json").write_bytes(built.plan_json_path.read_bytes())  # a folder without .tf files
    result = guard(tmp_path, "check", "plan.json", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert "aws_instance.stamped" not in findings(report, "TFG012")
    stamped = findings(report, "TFG010")["aws_instance.stamped"]
    assert stamped["severity"] == "error" and stamped["cause"] == "not_proven"


# -- TFG021 on an instance: stopped and started on every apply -----------------------------------
def test_tfg021_user_data_with_timestamp_restarts_the_instance_on_every_apply(real_plans):
    built = real_plans["out_of_band"]
    rc = change(built, "aws_instance.restarted")
    assert rc["change"]["actions"] == ["update"] and rc["change"]["after_unknown"]["user_data"] is True

    _, report = check(built)
    finding = findings(report, "TFG021")["aws_instance.restarted"]
    assert finding["severity"] == "error" and finding["cause"] == "volatile"
    assert "stops and starts the instance" in finding["title"]
    assert "instance-store" in finding["message"] and "timestamp()" in finding["message"]
    assert finding["chain"][-1]["ref"] == "timestamp()"
    ignore = fix(finding, "Keep the running resource")
    assert ignore["strategy"] == "ignore" and ignore["edits"][0]["text"] == "user_data"


def test_out_of_band_twin_with_the_fixes_in_the_code_is_clean(real_plans):
    built = real_plans["out_of_band_adopted"]
    # the same world: the rule and the tag made by hand are still there, now in the code too
    assert any(r["from_port"] == 22 for r in drift(built, "aws_security_group.web")["change"]["after"]["ingress"])
    assert drift(built, "aws_ebs_volume.data")["change"]["after"]["tags"]["CostCenter"] == "cc-1234"
    assert all(rc["change"]["actions"] == ["no-op"] for rc in built.plan()["resource_changes"])
    code, report = check(built)
    assert code == 0 and report["findings"] == []


# -- TFG006: deploys nobody reviewed --------------------------------------------------------------
def test_tfg006_function_on_the_newest_ecr_image_is_an_unreviewed_deploy(real_plans):
    built = real_plans["deploy"]
    rc = change(built, "aws_lambda_function.api")
    old, new = rc["change"]["before"]["image_uri"], rc["change"]["after"]["image_uri"]
    assert rc["change"]["actions"] == ["update"]
    assert old.endswith("@" + built.values["old"]) and new == built.values["new_uri"]

    code, report = check(built)
    assert code == 1
    finding = findings(report, "TFG006")["aws_lambda_function.api"]
    assert finding["severity"] == "error" and finding["actions"] == ["update"] and finding["cause"] == "world_drift"
    assert finding["values"] == [{"path": "image_uri", "before": old, "after": new}]
    assert [link["ref"] for link in finding["chain"]] == ["aws_lambda_function.api.image_uri", "data.aws_ecr_image.api"]
    assert "most_recent = true" in finding["chain"][-1]["details"]
    assert "image_tags = v2" in finding["facts"]["data_source_now"]
    assert "nobody reviewed" in finding["message"]
    pin = fix(finding, "Pin the release")
    assert pin["strategy"] == "pin" and pin["snippet"] == f'image_uri = "{old}"'
    assert pin["location"]["line"] == line_of(built.dir / "main.tf", r"^\s*image_uri\s*=")
    assert fix(finding, "Keep the running resource")["edits"][0]["text"] == "image_uri"


def test_tfg006_task_definition_on_a_tag_read_from_ssm_is_replaced_by_an_unreviewed_deploy(real_plans):
    built = real_plans["deploy"]
    rc = change(built, "aws_ecs_task_definition.worker")
    assert rc["change"]["actions"] == ["delete", "create"]
    assert rc["change"]["replace_paths"] == [["container_definitions"]]

    _, report = check(built)
    finding = findings(report, "TFG006")["aws_ecs_task_definition.worker"]
    assert finding["severity"] == "error" and finding["actions"] == ["delete", "create"]
    assert finding["chain"][-1]["ref"] == "data.aws_ssm_parameter.worker_tag"
    # a parameter's value is never printed (insecure_value holds it unmarked)
    assert finding["values"][0]["after"].startswith("(hidden")
    assert "container_definitions" in finding["message"]
    # no other rule reports the same replacement
    assert [f["rule"] for f in report["findings"] if f["address"] == "aws_ecs_task_definition.worker"] == ["TFG006"]


def test_deploy_twin_released_through_variables_is_not_reported(real_plans):
    built = real_plans["deploy_reviewed"]
    assert change(built, "aws_lambda_function.api")["change"]["after"]["image_uri"] == built.values["new_uri"]
    assert change(built, "aws_ecs_task_definition.worker")["change"]["actions"] == ["delete", "create"]
    code, report = check(built)
    assert code == 0 and report["findings"] == []


# -- one drifting image under a fleet: instances, groups, templates, configurations ---------------
ROLLED = {"aws_autoscaling_group.refresh", "aws_autoscaling_group.rolled", "module.blue.aws_autoscaling_group.this[0]"}
NEW_ONLY = {"aws_autoscaling_group.latest", "aws_autoscaling_group.default_moves", "aws_autoscaling_group.plain",
            "module.green.aws_autoscaling_group.this[0]"}
INSTANCES = ['aws_instance.fleet["a"]', 'aws_instance.fleet["b"]', 'module.pool["x"].aws_instance.this',
             'module.pool["y"].aws_instance.this']


def test_fleet_on_one_drifting_image_is_one_cause_per_rule_in_json(real_plans):
    built = real_plans["image_fleet"]
    code, report = check(built)
    assert code == 1
    tfg001 = findings(report, "TFG001")
    assert sorted(tfg001) == sorted(INSTANCES)
    assert {f["group"] for f in tfg001.values()} == {"TFG001|image_drift|data.aws_ami.al2"}
    [group] = [g for g in report["groups"] if g["rule"] == "TFG001"]
    assert sorted(group["addresses"]) == sorted(INSTANCES)
    # nothing else about the fleet's images is an error of TFG001/TFG002/TFG010: launch templates and
    # configurations hold no data
    for f in report["findings"]:
        assert not f["address"].startswith(("aws_launch_", "module.blue.aws_launch", "module.green.aws_launch"))
        assert f["rule"] not in ("TFG002", "TFG010")


def test_fleet_prints_its_cause_once_in_text_and_markdown(real_plans):
    built = real_plans["image_fleet"]
    text = guard(built.dir, "check", "plan.json", "-C", ".").stdout
    sections = re.split(r"\n(?=(?:error|warning|notice) TFG\d{3} )", text)
    [tfg001] = [s for s in sections if s.startswith("error TFG001")]
    assert "4 resources, one cause" in tfg001.splitlines()[0]
    assert tfg001.count("why:") == 1 and tfg001.count("<- data.aws_ami.al2  [main.tf:") == 1
    assert all(address in tfg001 for address in INSTANCES)
    markdown = guard(built.dir, "check", "plan.json", "-C", ".", "--format", "markdown").stdout
    details = re.findall(r"<details><summary>.*?</details>", markdown, re.DOTALL)
    [md001] = [d for d in details if "TFG001 ami-drift" in d]
    assert "(4 resources)" in md001 and md001.count("**Why**") == 1
    assert md001.count("&lt;- data.aws_ami.al2") == 1


def test_tfg021_groups_whose_refresh_starts_replace_every_instance(real_plans):
    built = real_plans["image_fleet"]
    # the plan says only "update": the group's version follows the template's unknown latest_version
    group = change(built, "aws_autoscaling_group.refresh")["change"]
    assert group["actions"] == ["update"] and group["after_unknown"]["launch_template"] == [{"version": True}]
    blue = change(built, "module.blue.aws_autoscaling_group.this[0]")["change"]
    assert blue["after_unknown"]["mixed_instances_policy"][0]["launch_template"][0][
        "launch_template_specification"][0]["version"] is True

    _, report = check(built)
    found = findings(report, "TFG021")
    assert set(found) == ROLLED
    assert {f["severity"] for f in found.values()} == {"error"}
    assert {f["group"] for f in found.values()} == {"TFG021|image_drift|data.aws_ami.al2"}
    assert {a: f["facts"]["desired_capacity"] for a, f in found.items()} == {
        "aws_autoscaling_group.refresh": "2", "aws_autoscaling_group.rolled": "3",
        "module.blue.aws_autoscaling_group.this[0]": "2"}
    refresh = found["aws_autoscaling_group.refresh"]
    assert "instance refresh" in refresh["message"] and "desired capacity 2" in refresh["message"]
    assert [link["ref"] for link in refresh["chain"]] == [
        "aws_autoscaling_group.refresh.launch_template[0].version", "aws_launch_template.refresh.latest_version",
        "aws_launch_template.refresh.image_id", "data.aws_ami.al2"]
    pin = fix(refresh, "Pin the image")
    assert pin["snippet"] == f'image_id = "{built.values["old"]}"' and pin["strategy"] == "pin"
    assert pin["location"]["line"] == line_of(built.dir / "main.tf", r"image_id\s*=", after=r'"aws_launch_template" "refresh"')
    # the launch configuration under a refreshing group: the group's change goes through its replacement
    rolled = found["aws_autoscaling_group.rolled"]
    assert "aws_launch_configuration.rolled (replaced)" in rolled["facts"]["through"]


def test_tfg021_follows_the_version_through_a_module_local_conditional_to_the_data_source(real_plans):
    built = real_plans["image_fleet"]
    _, report = check(built)
    blue = findings(report, "TFG021")["module.blue.aws_autoscaling_group.this[0]"]
    module_tf = built.dir / "modules" / "asg" / "main.tf"
    refs = [link["ref"] for link in blue["chain"]]
    assert refs[0] == ("aws_autoscaling_group.this.mixed_instances_policy[0].launch_template[0]"
                       ".launch_template_specification[0].version")
    assert refs[1:3] == ["local.template_version", "aws_launch_template.this[0].latest_version"]
    assert refs[-2:] == ["module.blue.image_id", "data.aws_ami.al2"]
    assert blue["chain"][0]["location"] == {"file": "modules/asg/main.tf",
                                            "line": line_of(module_tf, r"version\s*=\s*local\.template_version")}
    assert "?" in blue["chain"][1]["expression"]  # the conditional, as written
    pin = fix(blue, "Pin the image")
    assert pin["location"] == {"file": "main.tf", "line": line_of(built.dir / "main.tf", r"image_id\s*=",
                                                                  after=r'^module "blue"')}


def test_tfg020_only_groups_that_launch_the_new_version_without_a_refresh(real_plans):
    built = real_plans["image_fleet"]
    # the plan: both $Default templates get the new image; only one moves its default version
    fixed = change(built, "aws_launch_template.default_fixed")["change"]
    assert fixed["actions"] == ["update"] and fixed["before"]["image_id"] == built.values["old"]
    assert change(built, "aws_autoscaling_group.default_fixed")["change"]["actions"] == ["no-op"]
    assert change(built, "aws_launch_configuration.plain")["change"]["actions"] == ["create", "delete"]

    _, report = check(built)
    found = findings(report, "TFG020")
    assert set(found) == NEW_ONLY
    assert {f["severity"] for f in found.values()} == {"notice"}
    # $Default that does not move, in the root and in the module with a refresh block: nothing
    for quiet in ("aws_autoscaling_group.default_fixed", "module.gray.aws_autoscaling_group.this[0]"):
        assert all(f["address"] != quiet for f in report["findings"]), quiet
    assert "update_default_version" in found["aws_autoscaling_group.default_moves"]["facts"]["launches"]
    assert found["aws_autoscaling_group.latest"]["facts"]["group_version"] == "$Latest"
    plain = found["aws_autoscaling_group.plain"]
    assert plain["facts"]["launch_configuration"] == "aws_launch_configuration.plain"
    assert plain["replace_paths"] == [["image_id"]]
    assert "nothing that runs is destroyed" in plain["message"] and "disks" not in plain["message"]
    assert plain["values"] == [{"path": "image_id", "before": built.values["old"], "after": built.values["new"]}]
    green = found["module.green.aws_autoscaling_group.this[0]"]
    assert "mixed_instances_policy[0]" in green["facts"]["group_uses_template"]
    assert green["facts"]["running_instances"] == "2"
    assert {f["group"] for f in found.values()} == {"TFG020|image_drift|data.aws_ami.al2"}


def test_fleet_twin_with_the_image_chosen_in_code_does_not_fail(real_plans):
    built = real_plans["image_fleet_code"]
    code, report = check(built)
    assert code == 0
    assert report["summary"]["errors"] == 0 and report["summary"]["warnings"] == 7
    assert set(findings(report, "TFG010")) == set(INSTANCES)
    assert {f["cause"] for f in findings(report, "TFG010").values()} == {"variable_change"}
    rolled = findings(report, "TFG021")
    assert set(rolled) == ROLLED and {f["severity"] for f in rolled.values()} == {"warning"}
    assert set(findings(report, "TFG020")) == NEW_ONLY


def test_explain_names_the_group_leaf_that_changes_not_the_block(real_plans, tmp_path):
    built = real_plans["image_fleet"]
    address = "module.blue.aws_autoscaling_group.this[0]"
    (tmp_path / "plan.json").write_bytes(built.plan_json_path.read_bytes())  # a folder without .tf files
    bare = guard(tmp_path, "explain", "plan.json", address)
    assert bare.returncode == 0, bare.stderr
    assert "not set in the configuration" not in bare.stdout
    assert "mixed_instances_policy[0].launch_template[0].launch_template_specification[0].version" in bare.stdout
    full = guard(built.dir, "explain", "plan.json", address, "-C", ".")
    assert "data.aws_ami.al2" in full.stdout and "local.template_version" in full.stdout


# -- the launch_template scenario: its refreshing group now reports its rollout ---------------------
def test_tfg021_rollout_from_a_variable_change_is_a_warning(real_plans):
    built = real_plans["launch_template"]
    code, report = check(built)
    assert code == 0
    api = findings(report, "TFG021")["aws_autoscaling_group.api"]
    assert api["severity"] == "warning" and api["cause"] == "code_change"  # var.image_id, through the template
    assert "likely intended" in api["message"]
    assert "aws_autoscaling_group.api" not in findings(report, "TFG020")


# -- `replace-guard fix`, then plan again -------------------------------------------------------
def _fix_and_plan(built, moto_server, tmp_path):
    import realtf

    log: dict[str, subprocess.CompletedProcess] = {}

    def edit(path: Path) -> None:
        log["fix"] = guard(path, "fix", str(built.plan_json_path), "-C", ".", "--write")

    again = realtf.rerun(built, moto_server, tmp_path, built.name + "_fixed", edit=edit,
                         commands=[("validate", "-no-color")])
    return again, log["fix"]


def test_fix_write_keeps_what_runs_and_leaves_the_security_rule_to_a_person(real_plans, moto_server, tmp_path):
    built = real_plans["out_of_band"]
    again, fixed = _fix_and_plan(built, moto_server, tmp_path)
    # the security rule is left to a person: `fix` says so and exits 1 (an error without an edit)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "TFG005 aws_security_group.web: no automatic edit: a change made by hand to a security-relevant" \
        in fixed.stderr
    assert "TFG012 aws_instance.stamped: Keep the running resource when `user_data` changes (ignore): applied" \
        in fixed.stderr
    actions = {rc["address"]: rc["change"]["actions"] for rc in again.plan()["resource_changes"]}
    for address in ("aws_instance.stamped", "aws_instance.restarted", "aws_secretsmanager_secret_version.app",
                    "aws_ebs_volume.data"):
        assert actions[address] == ["no-op"], (address, actions[address])
    # the rule added by hand to a security group is not ignored behind anyone's back
    assert actions["aws_security_group.web"] == ["update"]
    _, report = check(again)
    assert [(f["rule"], f["address"]) for f in report["findings"]] == [("TFG005", "aws_security_group.web")]


def test_fix_write_pins_the_fleet_image_and_nothing_rolls(real_plans, moto_server, tmp_path):
    built = real_plans["image_fleet"]
    again, fixed = _fix_and_plan(built, moto_server, tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    actions = {rc["address"]: rc["change"]["actions"] for rc in again.plan()["resource_changes"]}
    for address in [*INSTANCES, *ROLLED]:
        assert actions[address] == ["no-op"], (address, actions[address])
    code, report = check(again)
    assert code == 0 and not [f for f in report["findings"] if f["severity"] == "error"]
