"""TFG002-TFG020 edge cases on small hand-made plans shaped like Terraform's (the real-plan tests,
with Terraform and moto, are in test_rules_real.py)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from guard.cli import cli
from guard.rules import ALL_RULES

AWS = "registry.terraform.io/hashicorp/aws"


# -- plan builders ------------------------------------------------------------------------------
def rc(address: str, actions: list[str], before: Any = None, after: Any = None, *, reason: str | None = None,
       replace_paths: list | None = None, after_unknown: Any = None, before_sensitive: Any = None,
       after_sensitive: Any = None, mode: str = "managed", with_address: bool = True) -> dict:
    local = address.rsplit(".", 2) if mode == "managed" else address.rsplit(".", 3)
    module = address[: address.index(".data.")] if ".data." in address else None
    if mode == "managed":
        head, rtype, name = (local if len(local) == 3 else ["", *local])
        if head.startswith("module."):
            module = head
    else:
        rtype, name = address.split("data.", 1)[1].split(".")[:2]
    key = None
    if "[" in name:
        name, raw = name.split("[", 1)
        raw = raw.rstrip("]")
        key = json.loads(raw) if raw.startswith('"') else int(raw)
    entry: dict[str, Any] = {
        "mode": mode, "type": rtype, "name": name, "provider_name": AWS,
        "change": {"actions": actions, "before": before, "after": after,
                   "after_unknown": after_unknown or {}, "before_sensitive": before_sensitive or {},
                   "after_sensitive": after_sensitive or {}},
    }
    if with_address:
        entry["address"] = address
    if module:
        entry["module_address"] = module
    if key is not None:
        entry["index"] = key
    if reason:
        entry["action_reason"] = reason
    if replace_paths is not None:
        entry["change"]["replace_paths"] = replace_paths
    return entry


def cfg(address: str, expressions: dict, mode: str = "managed", **extra) -> dict:
    rtype, name = address.split(".")[-2:]
    return {"address": address, "mode": mode, "type": rtype, "name": name, "provider_config_key": "aws",
            "expressions": expressions, "schema_version": 0, **extra}


def plan(changes: list[dict], *, config: list[dict] | None = None, drift: list[dict] | None = None,
         state: list[dict] | None = None, provider: dict | None = None, variables: dict | None = None,
         module_calls: dict | None = None, version: str = "1.11.4") -> dict:
    doc: dict[str, Any] = {
        "format_version": "1.2", "terraform_version": version,
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": state or []}}},
        "configuration": {"provider_config": {"aws": provider or {"name": "aws", "full_name": AWS}},
                          "root_module": {"resources": config or [], **({"module_calls": module_calls}
                                                                         if module_calls else {})}},
    }
    if drift is not None:
        doc["resource_drift"] = drift
    if variables is not None:
        doc["variables"] = {k: {"value": v} for k, v in variables.items()}
    return doc


def check(tmp_path, doc: dict, *args: str, fmt: str = "json"):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path), "--format", fmt, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if fmt == "json":
        return result.exit_code, json.loads(result.output)
    return result.exit_code, result.output


def by_rule(doc: dict, rule: str) -> list[dict]:
    return [f for f in doc["findings"] if f["rule"] == rule]


# -- the catalogue ------------------------------------------------------------------------------
def test_every_rule_is_documented_like_ruff_documents_rules():
    ids = [r.id for r in ALL_RULES]
    assert ids == ["TFG001", "TFG002", "TFG003", "TFG004", "TFG005", "TFG006", "TFG010", "TFG011", "TFG012", "TFG020",
                   "TFG021"]
    for rule in ALL_RULES:
        for field in ("name", "summary", "why", "example", "fix"):
            assert getattr(rule, field).strip(), (rule.id, field)
        result = CliRunner().invoke(cli, ["rules", rule.id])
        assert result.exit_code == 0
        for heading in ("What it finds", "Why it matters", "Example", "Fix"):
            assert heading in result.output


def test_tfg010_doc_prints_the_advice_table():
    out = CliRunner().invoke(cli, ["rules", "TFG010"]).output
    assert "Advice per attribute" in out
    assert "security_groups" in out and "vpc_security_group_ids" in out
    assert "user_data_replace_on_change" in out
    assert "aws_db_instance" in out and "aws_ebs_volume" in out


# -- TFG002 -------------------------------------------------------------------------------------
def _ssm_plan(attr: str, marked: bool) -> dict:
    secret_old, secret_new = "ami-0011aa22bb33cc44d", "ami-0055ee66ff7788990"
    sens = {"ami": True} if marked else {}
    return plan(
        [rc("aws_instance.app", ["delete", "create"], {"ami": secret_old, "id": "i-1"}, {"ami": secret_new},
            reason="replace_because_cannot_update", replace_paths=[["ami"]], before_sensitive=sens,
            after_sensitive=sens)],
        config=[cfg("aws_instance.app", {"ami": {"references": [f"data.aws_ssm_parameter.ami.{attr}",
                                                                "data.aws_ssm_parameter.ami"]}}),
                cfg("data.aws_ssm_parameter.ami", {"name": {"constant_value": "/golden/ami"}}, mode="data")],
        state=[{"address": "data.aws_ssm_parameter.ami", "mode": "data", "type": "aws_ssm_parameter",
                "name": "ami", "values": {"name": "/golden/ami", "type": "String", "version": 4,
                                          "value": secret_new, "insecure_value": secret_new},
                "sensitive_values": {"value": True}}],
    )


def test_tfg002_never_prints_an_ssm_value_marked_or_not(tmp_path):
    for attr, marked in (("value", True), ("insecure_value", False)):
        doc = _ssm_plan(attr, marked)
        for fmt in ("json", "text", "sarif", "markdown", "github", "junit"):
            code, out = check(tmp_path, doc, fmt=fmt)
            text = out if isinstance(out, str) else json.dumps(out)
            assert code == 1
            assert "ami-0011aa22bb33cc44d" not in text and "ami-0055ee66ff7788990" not in text, (attr, fmt)
        _, report = check(tmp_path, doc)
        finding = by_rule(report, "TFG002")[0]
        assert finding["address"] == "aws_instance.app"
        assert finding["facts"]["data_source"] == "data.aws_ssm_parameter.ami"
        assert "version = 4" in finding["facts"]["data_source_now"]
        assert finding["chain"][-1]["ref"] == "data.aws_ssm_parameter.ami"


def test_tfg002_keyed_data_source_in_a_keyed_module(tmp_path):
    inst = 'module.app["a.b"].aws_instance.this'
    data = 'module.app["a.b"].data.aws_availability_zones.zones'
    doc = plan(
        [rc(inst, ["delete", "create"], {"availability_zone": "eu-west-1a"}, {"availability_zone": "eu-west-1b"},
            reason="replace_because_cannot_update", replace_paths=[["availability_zone"]])],
        module_calls={"app": {"source": "./app", "module": {"resources": [
            cfg("aws_instance.this", {"availability_zone": {
                "references": ["data.aws_availability_zones.zones.names[0]", "data.aws_availability_zones.zones.names",
                               "data.aws_availability_zones.zones"]}}),
            cfg("data.aws_availability_zones.zones", {"state": {"constant_value": "available"}}, mode="data")]}}},
        state=[{"address": data, "mode": "data", "type": "aws_availability_zones", "name": "zones", "index": None,
                "values": {"names": ["eu-west-1b", "eu-west-1c"]}, "sensitive_values": {}}],
    )
    code, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG002")[0]
    assert finding["address"] == inst
    assert finding["values"][0] == {"path": "availability_zone", "before": "eu-west-1a", "after": "eu-west-1b"}
    assert finding["facts"]["data_source"] == data
    assert finding["facts"]["data_source_now"] == "names = eu-west-1b, eu-west-1c"
    assert any("Name zones" in fix["title"] for fix in finding["fixes"])


def test_tfg002_config_only_data_source_is_a_code_change(tmp_path):
    doc = plan(
        [rc("aws_instance.app", ["delete", "create"], {"user_data": "a"}, {"user_data": "b"},
            reason="replace_because_cannot_update", replace_paths=[["user_data"]])],
        config=[cfg("aws_instance.app", {"user_data": {"references": ["data.cloudinit_config.boot.rendered",
                                                                      "data.cloudinit_config.boot"]}}),
                cfg("data.cloudinit_config.boot", {}, mode="data")],
    )
    _, report = check(tmp_path, doc)
    assert [f["rule"] for f in report["findings"]] == ["TFG010"]
    assert "computed by data.cloudinit_config.boot" in report["findings"][0]["message"]


# -- TFG003 -------------------------------------------------------------------------------------
def test_tfg003_old_terraform_without_action_reason(tmp_path):
    doc = plan(
        [rc("aws_instance.app", ["delete", "create"], {"ami": "ami-1"}, {}, replace_paths=[["ami"]],
            after_unknown={"ami": True}),
         rc("data.aws_ami.app", ["read"], None, {}, mode="data")],
        config=[cfg("aws_instance.app", {"ami": {"references": ["data.aws_ami.app.id", "data.aws_ami.app"]}}),
                cfg("data.aws_ami.app", {"owners": {"constant_value": ["self"]}}, mode="data",
                    depends_on=["aws_iam_role.x"])],
        version="1.1.9",
    )
    code, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG003")[0]
    assert code == 1
    assert finding["facts"]["read_reason"].startswith("not given by this Terraform version")
    assert "depends_on = [aws_iam_role.x]" in finding["facts"]["deferred_by"]
    assert finding["values"][0]["after"] == "(known after apply)"


# -- TFG004 -------------------------------------------------------------------------------------
def _vanished(provider: dict | None, variables: dict | None, arn_region: str = "us-east-1") -> dict:
    arn = f"arn:aws:ec2:{arn_region}:123456789012:instance/i-0abc"
    return plan(
        [rc("aws_instance.app", ["create"], None, {"ami": "ami-1"}, after_unknown={"id": True})],
        config=[cfg("aws_instance.app", {"ami": {"constant_value": "ami-1"}})],
        drift=[rc("aws_instance.app", ["delete"], {"id": "i-0abc", "arn": arn}, None, with_address=False)],
        provider=provider, variables=variables, version="1.0.0",
    )


def test_tfg004_drift_without_address_and_region_from_a_variable(tmp_path):
    doc = _vanished({"name": "aws", "expressions": {"region": {"references": ["var.region"]}}},
                    {"region": "eu-west-1"})
    code, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG004")[0]
    assert code == 1 and finding["address"] == "aws_instance.app"
    assert finding["facts"]["old_region"].startswith("us-east-1")
    assert finding["facts"]["region_now"] == 'eu-west-1 (provider "aws" region = var.region ("eu-west-1"))'
    assert "us-east-1 -> eu-west-1" in finding["title"]


def test_tfg004_same_region_says_deleted_outside(tmp_path):
    doc = _vanished({"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}}, None)
    _, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG004")[0]
    assert "same" in finding["message"] and "deleted outside Terraform" in finding["message"]


def test_tfg004_silent_when_the_vanished_object_is_not_created_again(tmp_path):
    doc = _vanished(None, None)
    doc["resource_changes"] = []
    _, report = check(tmp_path, doc)
    assert by_rule(report, "TFG004") == []


# -- TFG010 / TFG011 ----------------------------------------------------------------------------
def test_tfg010_without_replace_paths_still_reports(tmp_path):
    doc = plan([rc("aws_db_instance.main", ["delete", "create"], {"identifier": "a"}, {"identifier": "a"})],
               config=[cfg("aws_db_instance.main", {"identifier": {"constant_value": "a"}})], version="0.14.11")
    code, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG010")[0]
    # Nothing in the plan says what forces it, so nothing proves anyone asked for it: fail safe.
    assert code == 1 and finding["severity"] == "error" and finding["cause"] == "not_proven"
    assert "does not say which attribute" in finding["message"]
    assert "not proven to be asked for" in finding["facts"]["cause"]


def test_tfg011_forgets_are_notices_and_opentofu_reasons(tmp_path):
    vol = {"id": "vol-1", "size": 1}
    doc = plan([
        rc("aws_ebs_volume.a", ["forget"], vol, None),
        rc("aws_ebs_volume.b", ["create", "forget"], vol, {"size": 1}),
        rc("aws_ebs_volume.c", ["forget", "create"], vol, {"size": 1},
           reason="forgot_because_lifecycle_destroy_in_config"),
        rc("aws_ebs_volume.d", ["delete"], vol, None, reason="delete_because_enabled_false"),
        rc("aws_security_group.e", ["delete"], {"id": "sg-1"}, None, reason="delete_because_no_resource_config"),
    ])
    code, report = check(tmp_path, doc)
    found = {f["address"]: f for f in by_rule(report, "TFG011")}
    assert set(found) == {"aws_ebs_volume.a", "aws_ebs_volume.b", "aws_ebs_volume.c", "aws_ebs_volume.d"}
    for address in ("aws_ebs_volume.a", "aws_ebs_volume.b", "aws_ebs_volume.c"):
        assert found[address]["severity"] == "notice"
        assert "will be destroyed" not in found[address]["title"]
    assert "stays" in found["aws_ebs_volume.a"]["message"]
    assert "keeps running" in found["aws_ebs_volume.b"]["message"]
    assert found["aws_ebs_volume.d"]["severity"] == "warning"
    assert "enabled = false" in found["aws_ebs_volume.d"]["message"]
    assert code == 0
    # a type made stateful in the config is reported too
    (tmp_path / ".replace-guard.toml").write_text('stateful-types = ["aws_security_group"]\n')
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "plan.json"), "--format", "json",
                                      "--config", str(tmp_path / ".replace-guard.toml")])
    assert "aws_security_group.e" in {f["address"] for f in json.loads(result.output)["findings"]}


def test_tfg011_destroy_plan(tmp_path):
    doc = plan([rc("aws_s3_bucket.logs", ["delete"], {"id": "logs"}, None),
                rc("aws_iam_role.r", ["delete"], {"id": "r"}, None)])
    _, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG011")[0]
    assert "destroy plan" in finding["title"]


# -- TFG020 -------------------------------------------------------------------------------------
def _lt_plan(asg_after: dict, asg_actions: list[str], asg_config: dict | None = None) -> dict:
    lt_before = {"id": "lt-0123", "name": "web", "image_id": "ami-old", "latest_version": 1}
    lt_after = {**lt_before, "image_id": "ami-new"}
    asg_before = {"name": "web", "desired_capacity": 3,
                  "launch_template": [{"id": "lt-0123", "name": "web", "version": "$Latest"}]}
    return plan(
        [rc("aws_launch_template.web", ["update"], lt_before, lt_after, after_unknown={"latest_version": True}),
         rc("module.asg.aws_autoscaling_group.this", asg_actions, asg_before, {**asg_before, **asg_after})],
        config=[cfg("aws_launch_template.web", {"image_id": {"references": ["var.ami"]}})],
        module_calls={"asg": {"source": "./asg", "module": {"resources": [
            cfg("aws_autoscaling_group.this", asg_config or {})]}}},
    )


def test_tfg020_matches_the_template_by_id_across_modules(tmp_path):
    code, report = check(tmp_path, _lt_plan({}, ["no-op"]))
    finding = by_rule(report, "TFG020")[0]
    assert code == 0 and finding["severity"] == "notice"
    assert finding["address"] == "module.asg.aws_autoscaling_group.this"
    assert finding["facts"]["running_instances"] == "3"
    assert "lt-0123" in finding["facts"]["group_uses_template"]
    assert finding["values"][0] == {"path": "image_id", "before": "ami-old", "after": "ami-new"}


def test_tfg020_instance_refresh_with_latest_does_not_start(tmp_path):
    doc = _lt_plan({"instance_refresh": [{"strategy": "Rolling"}]}, ["no-op"])
    _, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG020")[0]
    assert "no refresh starts" in finding["message"]
    assert any("latest_version" in fix["title"] for fix in finding["fixes"])


def test_tfg020_silent_when_the_refresh_starts_or_the_group_is_new(tmp_path):
    refreshed = _lt_plan({"instance_refresh": [{"strategy": "Rolling"}],
                          "launch_template": [{"id": "lt-0123", "name": "web", "version": "2"}]}, ["update"])
    _, report = check(tmp_path, refreshed)
    assert by_rule(report, "TFG020") == []
    _, report = check(tmp_path, _lt_plan({}, ["create"]))
    assert by_rule(report, "TFG020") == []


def test_tfg010_without_replace_paths_traces_the_attribute_whose_value_differs_first(tmp_path):
    # Terraform before 0.15.3 wrote no replace_paths: the attribute whose known value differs
    # (ami, from a root variable) is traced first; attributes the provider computes and that only
    # become unknown because of the replacement are not taken for the cause.
    before = {"ami": "ami-1", "instance_type": "t3.micro", "private_ip": "10.0.0.1", "arn": "arn:aws:ec2:x",
              "availability_zone": "us-east-1a"}
    after = {"ami": "ami-2", "instance_type": "t3.micro"}
    doc = plan([rc("aws_instance.app", ["delete", "create"], before, after,
                   after_unknown={"private_ip": True, "arn": True, "availability_zone": True})],
               config=[cfg("aws_instance.app", {"ami": {"references": ["var.image"]},
                                                "instance_type": {"constant_value": "t3.micro"}})],
               version="0.14.11", variables={"image": {"value": "ami-2"}})
    code, report = check(tmp_path, doc)
    finding = by_rule(report, "TFG010")[0]
    assert code == 0 and finding["severity"] == "warning" and finding["cause"] == "variable_change"
    assert [v["path"] for v in finding["values"]] == ["ami"]
    assert "root variable var.image" in finding["message"]


def test_an_external_program_is_the_world_not_the_code(tmp_path):
    # data "external" runs a program at every plan: what it prints is drift, not a code change.
    doc = plan([rc("aws_instance.app", ["delete", "create"], {"ami": "ami-1"}, {"ami": "ami-2"},
                   reason="replace_because_cannot_update", replace_paths=[["ami"]])],
               config=[cfg("aws_instance.app", {"ami": {"references": ["data.external.image.result.id",
                                                                       "data.external.image"]}}),
                       cfg("data.external.image", {"program": {"constant_value": ["./image.sh"]}}, mode="data")],
               state=[{"address": "data.external.image", "mode": "data", "type": "external", "name": "image",
                       "values": {"id": "-", "program": ["./image.sh"], "result": {"id": "ami-2"}},
                       "sensitive_values": {}}])
    code, report = check(tmp_path, doc)
    (finding,) = report["findings"]
    assert code == 1 and finding["rule"] == "TFG002" and finding["cause"] == "world_drift"
    assert "the program printed something else" in finding["message"]


def test_pre_release_noop_spelling_is_an_unchanged_resource():
    from guard.model import NOOP, normal_actions, plan_decoder
    from guard.plan_index import PlanIndex

    assert normal_actions(["NoOp"]) == NOOP == ("no-op",)
    doc = plan([rc("aws_instance.app", ["NoOp"], {"ami": "ami-1"}, {"ami": "ami-1"})])
    index = PlanIndex.build(plan_decoder.decode(json.dumps(doc).encode()))
    assert index.active == [] and index.changes["aws_instance.app"].actions == NOOP


def test_a_field_the_code_picks_from_a_parameter_never_shows_the_rest(tmp_path):
    # ami = jsondecode(nonsensitive(data.aws_ssm_parameter.release.value)).ami: the plan shows the ami
    # (unmarked); the parameter's other fields (here a token) are never printed, not even as the root.
    (tmp_path / "main.tf").write_text(
        'data "aws_ssm_parameter" "release" {\n  name = "/release/config"\n}\n\n'
        "locals {\n  release = jsondecode(nonsensitive(data.aws_ssm_parameter.release.value))\n}\n\n"
        'resource "aws_instance" "worker" {\n  ami           = local.release.ami\n  instance_type = "t3.micro"\n}\n')
    secret = '{"ami": "ami-0bbb2222", "token": "tok-s3cr3t"}'
    doc = plan([rc("aws_instance.worker", ["delete", "create"], {"ami": "ami-0aaa1111"}, {"ami": "ami-0bbb2222"},
                   reason="replace_because_cannot_update", replace_paths=[["ami"]])],
               config=[cfg("aws_instance.worker", {"ami": {"references": ["local.release.ami", "local.release"]}}),
                       cfg("data.aws_ssm_parameter.release", {"name": {"constant_value": "/release/config"}},
                           mode="data")],
               state=[{"address": "data.aws_ssm_parameter.release", "mode": "data", "type": "aws_ssm_parameter",
                       "name": "release", "values": {"name": "/release/config", "type": "String",
                                                     "value": secret, "insecure_value": secret},
                       "sensitive_values": {"value": True}}])
    (tmp_path / "plan.json").write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "plan.json"), "-C", str(tmp_path), "--format", "json"])
    (finding,) = json.loads(result.output)["findings"]
    assert finding["rule"] == "TFG002" and finding["root"] == "data.aws_ssm_parameter.release returns a new value"
    assert finding["values"] == [{"path": "ami", "before": "ami-0aaa1111", "after": "ami-0bbb2222"}]
    assert "tok-s3cr3t" not in result.output
