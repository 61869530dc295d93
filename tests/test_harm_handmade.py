"""TFG005, TFG006, TFG012, TFG020 and TFG021 edge cases on small hand-made plans shaped like the ones
Terraform 1.11 writes (the stories themselves run on real plans in test_harm_real.py)."""

from __future__ import annotations

from test_rules_handmade import by_rule, cfg, check, plan, rc

SSM_STATE = {"address": "data.aws_ssm_parameter.eks", "mode": "data", "type": "aws_ssm_parameter", "name": "eks",
             "values": {"name": "/aws/service/eks/optimized-ami/1.30/amazon-linux-2/recommended/release_version",
                        "value": "1.30.2-20240807", "insecure_value": "1.30.2-20240807", "type": "String"},
             "sensitive_values": {"value": True}}


def _node_group(release: dict, *, before_release: str = "1.30.0-20240703",
                after_release: str = "1.30.2-20240807") -> dict:
    before = {"cluster_name": "prod", "node_group_name": "workers", "version": "1.30", "release_version":
              before_release, "scaling_config": [{"desired_size": 6, "max_size": 9, "min_size": 3}]}
    after = {**before, "release_version": after_release}
    return plan([rc("aws_eks_node_group.workers", ["update"], before, after)],
                config=[cfg("aws_eks_node_group.workers", {"release_version": release,
                                                           "version": {"constant_value": "1.30"}}),
                        cfg("data.aws_ssm_parameter.eks", {"name": {"constant_value": "/aws/service/eks"}},
                            mode="data")],
                state=[SSM_STATE], variables={"release": after_release})


# -- TFG021: EKS node groups, instances ---------------------------------------------------------
def test_tfg021_node_group_release_from_a_parameter_rolls_every_node_and_is_an_error(tmp_path):
    doc = _node_group({"references": ["data.aws_ssm_parameter.eks.insecure_value", "data.aws_ssm_parameter.eks"]})
    code, report = check(tmp_path, doc)
    [finding] = by_rule(report, "TFG021")
    assert code == 1 and finding["severity"] == "error" and finding["cause"] == "world_drift"
    assert finding["address"] == "aws_eks_node_group.workers"
    assert finding["facts"]["desired_size"] == "6"
    assert "EKS replaces every node" in finding["title"] and "6 node(s)" in finding["message"]
    assert finding["chain"][-1]["ref"] == "data.aws_ssm_parameter.eks"
    ignore = next(f for f in finding["fixes"] if "release_version" in f["title"])
    assert "ignore_changes = [release_version]" in ignore["snippet"]


def test_tfg021_node_group_release_from_a_variable_is_a_warning(tmp_path):
    doc = _node_group({"references": ["var.release"]})
    code, report = check(tmp_path, doc)
    [finding] = by_rule(report, "TFG021")
    assert code == 0 and finding["severity"] == "warning" and finding["cause"] == "variable_change"
    # asked for: `fix` must not hide it with ignore_changes
    assert all(f.get("strategy") is None for f in finding["fixes"])


def test_tfg021_node_group_silent_when_nothing_that_rolls_changes(tmp_path):
    doc = _node_group({"references": ["var.release"]}, after_release="1.30.0-20240703")
    doc["resource_changes"][0]["change"]["after"]["scaling_config"] = [{"desired_size": 7, "max_size": 9,
                                                                        "min_size": 3}]
    _, report = check(tmp_path, doc)
    assert by_rule(report, "TFG021") == []


def test_tfg021_instance_type_changed_by_hand_and_set_back_is_one_finding_naming_the_drift(tmp_path):
    applied = {"id": "i-1", "ami": "ami-1", "instance_type": "t3.micro", "tags": {"Name": "db"}}
    by_hand = {**applied, "instance_type": "t3.large"}
    doc = plan([rc("aws_instance.db", ["update"], by_hand, applied)],
               config=[cfg("aws_instance.db", {"ami": {"constant_value": "ami-1"},
                                               "instance_type": {"constant_value": "t3.micro"}})],
               drift=[rc("aws_instance.db", ["update"], applied, by_hand)])
    _, report = check(tmp_path, doc)
    [finding] = by_rule(report, "TFG021")
    assert finding["severity"] == "warning"  # the code's literal
    assert finding["values"] == [{"path": "instance_type", "before": "t3.large", "after": "t3.micro"}]
    assert finding["facts"]["changed_outside_terraform"] == "instance_type"
    assert "changed outside Terraform" in finding["message"] and "stops and starts" in finding["title"]
    # the revert is TFG021's (UPDATE_PRECEDENCE): TFG005 does not report the same attribute
    assert by_rule(report, "TFG005") == []


# -- TFG005 -------------------------------------------------------------------------------------
def test_tfg005_compares_values_not_entries(tmp_path):
    """Refresh noise (`tags: null -> {}`, `"" -> null`) is no change made by hand; nor is drift the plan
    leaves alone (an attribute under ignore_changes)."""
    before = {"id": "sg-1", "name": "web", "description": "", "tags": None,
              "ingress": [{"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                           "description": ""}]}
    noise = {**before, "tags": {}, "description": None}
    by_hand = {**noise, "ingress": before["ingress"] + [{"from_port": 22, "to_port": 22, "protocol": "tcp",
                                                          "cidr_blocks": ["10.0.0.0/8"], "description": ""}]}
    kept = {**by_hand, "tags": None}
    doc = plan([rc("aws_security_group.web", ["update"], by_hand, kept)],
               config=[cfg("aws_security_group.web", {"name": {"constant_value": "web"}})],
               drift=[rc("aws_security_group.web", ["update"], before, by_hand)])
    _, report = check(tmp_path, doc)
    assert by_rule(report, "TFG005") == []


def test_tfg005_a_removed_rule_is_put_back_and_a_changed_scalar_is_set_back(tmp_path):
    rule = {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}
    before = {"id": "sg-1", "name": "web", "description": "web", "ingress": [rule]}
    by_hand = {**before, "ingress": [], "description": "locked down"}
    doc = plan([rc("aws_security_group.web", ["update"], by_hand, before)],
               config=[cfg("aws_security_group.web", {"name": {"constant_value": "web"}})],
               drift=[rc("aws_security_group.web", ["update"], before, by_hand)])
    code, report = check(tmp_path, doc)
    [finding] = by_rule(report, "TFG005")
    assert code == 1 and finding["severity"] == "error"
    assert "1 removed by hand" in finding["message"] and "apply puts back" in finding["message"]
    assert "`description` was changed by hand from web to locked down, and apply sets it back to web" \
        in finding["message"]
    assert finding["facts"]["last_applied.description"] == "web"
    assert finding["replace_paths"] == [["description"], ["ingress"]]


def test_tfg005_sensitive_drift_is_named_not_shown(tmp_path):
    before = {"id": "p", "policy": "{\"Statement\":[]}", "name": "p"}
    by_hand = {**before, "policy": "{\"Statement\":[{\"Effect\":\"Allow\"}]}"}
    marks = {"policy": True}
    doc = plan([rc("aws_iam_policy.p", ["update"], by_hand, before, before_sensitive=marks, after_sensitive=marks)],
               config=[cfg("aws_iam_policy.p", {"policy": {"constant_value": before["policy"]}})],
               drift=[rc("aws_iam_policy.p", ["update"], before, by_hand, before_sensitive=marks,
                         after_sensitive=marks)])
    _, report = check(tmp_path, doc)
    [finding] = by_rule(report, "TFG005")
    assert finding["severity"] == "error"
    assert finding["values"] == [{"path": "policy", "before": "(sensitive)", "after": "(sensitive)"}]
    assert "Allow" not in str(finding)
    assert not any("write it into the code" in f["title"] for f in finding["fixes"])


# -- TFG006 and its precedence over TFG005 -------------------------------------------------------
ECR_STATE = {"address": "data.aws_ecr_image.api", "mode": "data", "type": "aws_ecr_image", "name": "api",
             "values": {"image_digest": "sha256:new", "image_uri": "repo@sha256:new", "image_tags": ["v2"]},
             "sensitive_values": {}}


def test_tfg006_takes_the_deployed_image_and_tfg005_the_rest_of_a_drifted_function(tmp_path):
    applied = {"function_name": "api", "image_uri": "repo@sha256:old", "tags": {"Team": "api"}}
    by_hand = {**applied, "image_uri": "repo@sha256:hotfix", "tags": {"Team": "api", "Oncall": "yes"}}
    planned = {**applied, "image_uri": "repo@sha256:new"}
    doc = plan([rc("aws_lambda_function.api", ["update"], by_hand, planned)],
               config=[cfg("aws_lambda_function.api", {"image_uri": {"references": ["data.aws_ecr_image.api.image_uri",
                                                                                    "data.aws_ecr_image.api"]},
                                                       "tags": {"constant_value": {"Team": "api"}}}),
                       cfg("data.aws_ecr_image.api", {"most_recent": {"constant_value": True}}, mode="data")],
               drift=[rc("aws_lambda_function.api", ["update"], applied, by_hand)], state=[ECR_STATE])
    _, report = check(tmp_path, doc)
    [deploy] = by_rule(report, "TFG006")
    assert deploy["replace_paths"] == [["image_uri"]]
    assert deploy["values"] == [{"path": "image_uri", "before": "repo@sha256:hotfix", "after": "repo@sha256:new"}]
    [revert] = by_rule(report, "TFG005")
    assert revert["replace_paths"] == [["tags"]] and revert["severity"] == "warning"


def test_tfg006_service_rolled_by_a_replaced_task_definition_shares_its_group(tmp_path):
    old_defs = '[{"image":"repo:1.0.0","name":"w"}]'
    new_defs = '[{"image":"repo:1.1.0","name":"w"}]'
    state = {"address": "data.aws_ssm_parameter.tag", "mode": "data", "type": "aws_ssm_parameter", "name": "tag",
             "values": {"name": "/tag", "value": "1.1.0", "insecure_value": "1.1.0"},
             "sensitive_values": {"value": True}}
    doc = plan([rc("aws_ecs_task_definition.w", ["delete", "create"], {"arn": "td:1", "container_definitions":
                                                                       old_defs},
                   {"container_definitions": new_defs}, reason="replace_because_cannot_update",
                   replace_paths=[["container_definitions"]], after_unknown={"arn": True}),
                rc("aws_ecs_service.w", ["update"], {"name": "w", "task_definition": "td:1"}, {"name": "w"},
                   after_unknown={"task_definition": True})],
               config=[cfg("aws_ecs_task_definition.w", {"container_definitions": {
                           "references": ["data.aws_ssm_parameter.tag.insecure_value", "data.aws_ssm_parameter.tag"]}}),
                       cfg("aws_ecs_service.w", {"task_definition": {"references": [
                           "aws_ecs_task_definition.w.arn", "aws_ecs_task_definition.w"]}}),
                       cfg("data.aws_ssm_parameter.tag", {"name": {"constant_value": "/tag"}}, mode="data")],
               state=[state])
    code, report = check(tmp_path, doc)
    found = {f["address"]: f for f in by_rule(report, "TFG006")}
    assert code == 1 and set(found) == {"aws_ecs_task_definition.w", "aws_ecs_service.w"}
    assert found["aws_ecs_service.w"]["facts"]["through"] == "aws_ecs_task_definition.w (replaced)"
    assert len({f["group"] for f in found.values()}) == 1
    [group] = [g for g in report["groups"] if g["rule"] == "TFG006"]
    assert sorted(group["addresses"]) == ["aws_ecs_service.w", "aws_ecs_task_definition.w"]


# -- TFG012: data sources new on every read ------------------------------------------------------
def test_tfg012_a_data_source_that_generates_a_password_on_every_read(tmp_path):
    state = {"address": "data.aws_secretsmanager_random_password.p", "mode": "data",
             "type": "aws_secretsmanager_random_password", "name": "p",
             "values": {"random_password": "Zx9!new", "password_length": 20}, "sensitive_values": {}}
    doc = plan([rc("aws_secretsmanager_secret_version.v", ["delete", "create"], {"secret_string": "Zx9!old"},
                   {"secret_string": "Zx9!new"}, reason="replace_because_cannot_update",
                   replace_paths=[["secret_string"]], before_sensitive={"secret_string": True},
                   after_sensitive={"secret_string": True})],
               config=[cfg("aws_secretsmanager_secret_version.v", {"secret_string": {"references": [
                   "data.aws_secretsmanager_random_password.p.random_password",
                   "data.aws_secretsmanager_random_password.p"]}}),
                       cfg("data.aws_secretsmanager_random_password.p", {}, mode="data")],
               state=[state])
    _, report = check(tmp_path, doc)
    [finding] = by_rule(report, "TFG012")
    assert finding["cause"] == "volatile" and by_rule(report, "TFG002") == []
    assert "data.aws_secretsmanager_random_password.p.random_password" in finding["title"]
    assert "Zx9" not in str(report)


# -- TFG020: which version a group launches ------------------------------------------------------
def _template_plan(version: str | None, *, default_moves: bool = False, refresh: bool = False) -> dict:
    lt_before = {"id": "lt-1", "name": "web", "image_id": "ami-old", "latest_version": 4, "default_version": 2,
                 "update_default_version": default_moves}
    lt_after = {**lt_before, "image_id": "ami-new"}
    unknown = {"latest_version": True, **({"default_version": True} if default_moves else {})}
    if default_moves:
        del lt_after["default_version"]
    spec = {"id": "lt-1", "name": "web", **({"version": version} if version is not None else {})}
    group = {"name": "web", "desired_capacity": 4, "launch_template": [spec],
             "instance_refresh": [{"strategy": "Rolling"}] if refresh else []}
    return plan([rc("aws_launch_template.web", ["update"], lt_before, lt_after, after_unknown=unknown),
                 rc("aws_autoscaling_group.web", ["no-op"], group, group)],
                config=[cfg("aws_launch_template.web", {"image_id": {"constant_value": "ami-new"}})])


def test_tfg020_default_version_that_does_not_move_reaches_nobody(tmp_path):
    for version in ("$Default", None, "2", "4"):
        _, report = check(tmp_path, _template_plan(version))
        assert by_rule(report, "TFG020") == [], version


def test_tfg020_default_version_that_moves_or_latest_reaches_new_instances(tmp_path):
    _, report = check(tmp_path, _template_plan("$Default", default_moves=True))
    [finding] = by_rule(report, "TFG020")
    assert "update_default_version" in finding["facts"]["launches"]
    _, report = check(tmp_path, _template_plan(None, default_moves=True))
    assert len(by_rule(report, "TFG020")) == 1
    _, report = check(tmp_path, _template_plan("$Latest", refresh=True))
    [finding] = by_rule(report, "TFG020")
    assert "no refresh starts" in finding["message"] and finding["facts"]["running_instances"] == "4"


def test_tfg020_launch_configuration_replaced_by_drift_is_a_notice_not_tfg001(tmp_path):
    ami = {"address": "data.aws_ami.al2", "mode": "data", "type": "aws_ami", "name": "al2",
           "values": {"id": "ami-new", "image_id": "ami-new", "name": "al2-new"}, "sensitive_values": {}}
    doc = plan([rc("aws_launch_configuration.web", ["create", "delete"], {"id": "web-1", "name": "web-1",
                                                                          "image_id": "ami-old"},
                   {"image_id": "ami-new"}, reason="replace_because_cannot_update", replace_paths=[["image_id"]],
                   after_unknown={"id": True, "name": True}),
                rc("aws_autoscaling_group.web", ["update"], {"name": "web", "desired_capacity": 3,
                                                             "launch_configuration": "web-1"},
                   {"name": "web", "desired_capacity": 3}, after_unknown={"launch_configuration": True})],
               config=[cfg("aws_launch_configuration.web", {"image_id": {"references": ["data.aws_ami.al2.id",
                                                                                          "data.aws_ami.al2"]}}),
                       cfg("aws_autoscaling_group.web", {"launch_configuration": {"references": [
                           "aws_launch_configuration.web.name", "aws_launch_configuration.web"]}}),
                       cfg("data.aws_ami.al2", {"most_recent": {"constant_value": True}}, mode="data")],
               state=[ami])
    code, report = check(tmp_path, doc)
    assert code == 0 and by_rule(report, "TFG001") == []
    [finding] = by_rule(report, "TFG020")
    assert finding["address"] == "aws_autoscaling_group.web" and finding["severity"] == "notice"
    assert finding["cause"] == "image_drift" and finding["facts"]["running_instances"] == "3"
    # with an instance refresh, the same change replaces the group's instances: TFG021, an error
    doc["resource_changes"][1]["change"]["before"]["instance_refresh"] = [{"strategy": "Rolling"}]
    doc["resource_changes"][1]["change"]["after"]["instance_refresh"] = [{"strategy": "Rolling"}]
    code, report = check(tmp_path, doc)
    assert code == 1 and by_rule(report, "TFG020") == [] and by_rule(report, "TFG001") == []
    [rolled] = by_rule(report, "TFG021")
    assert rolled["cause"] == "image_drift" and rolled["facts"]["desired_capacity"] == "3"
