"""The cause engine on real plans (tests/scenarios/engine_patterns): the shapes a new user's code
takes, each traced to the true root, with facts from the right data source instance and fixes
that are valid where they point.

Terraform 1.11 + the AWS provider against moto: images published before the apply, newer ones
after it; nobody changed the code, and every instance below is replaced.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SCENARIO = "engine_patterns"


def guard(built, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=built.dir, capture_output=True, text=True,
                          timeout=300)


def report(built, *args: str) -> dict:
    result = guard(built, "check", "plan.json", "-C", ".", "--format", "json", *args)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def by_address(doc: dict) -> dict[str, dict]:
    return {f["address"]: f for f in doc["findings"]}


def line_of(path: Path, pattern: str) -> int:
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.search(pattern, line):
            return no
    raise AssertionError(f"{pattern!r} not in {path}")


def before(built, address: str, attr: str) -> str:
    rc = next(r for r in built.plan()["resource_changes"] if r["address"] == address)
    return rc["change"]["before"][attr]


def data_values(built, address: str) -> dict:
    def walk(module):
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)
    return next(r for r in walk(built.plan()["prior_state"]["values"]["root_module"]) if r["address"] == address)["values"]


def refs(finding: dict) -> list[str]:
    return [link["ref"] for link in finding["chain"]]


def pin(finding: dict) -> dict | None:
    return next((f for f in finding["fixes"] if f.get("strategy") in ("pin", "pin-keys")), None)


def test_every_instance_is_reported_as_image_drift(real_plans):
    built = real_plans[SCENARIO]
    found = by_address(report(built))
    assert set(found) == {
        'aws_instance.triggered', 'aws_instance.by_value["web"]', 'aws_instance.by_role["web"]',
        'aws_instance.by_role["api"]', 'aws_instance.from_output', 'aws_instance.user_data',
        'aws_instance.conditional', 'aws_instance.via_locals'}
    assert all(f["severity"] == "error" for f in found.values())
    # user_data only carries the image: the data source's other story (TFG002), never a code change
    assert found["aws_instance.user_data"]["rule"] == "TFG002"
    assert {f["rule"] for a, f in found.items() if a != "aws_instance.user_data"} == {"TFG001"}
    # nothing is called a code change, and terraform_data.image (an update) is no finding
    assert not any(f["cause"] in ("code_change", "variable_change") for f in found.values())


def test_most_recent_through_a_variable_is_most_recent(real_plans):
    built = real_plans[SCENARIO]
    finding = by_address(report(built))["aws_instance.conditional"]
    assert finding["rule"] == "TFG001" and finding["facts"]["data_source"] == "data.aws_ami.base"
    assert "most_recent = var.latest" in json.dumps(finding["chain"])


def test_replace_triggered_by_is_followed_into_the_trigger(real_plans):
    built = real_plans[SCENARIO]
    finding = by_address(report(built))["aws_instance.triggered"]
    assert finding["rule"] == "TFG001" and finding["cause"] == "image_drift"
    assert finding["action_reason"] == "replace_by_triggers"
    assert refs(finding) == ["terraform_data.image", "terraform_data.image.input", "data.aws_ami.base"]
    main_tf = built.dir / "main.tf"
    assert finding["chain"][0]["location"]["line"] == line_of(main_tf, r"replace_triggered_by")
    # The pin goes where the image reaches the trigger: terraform_data.image's input, with its value today.
    fix = pin(finding)
    assert fix is not None and fix["edits"][0]["line"] == line_of(main_tf, r"^\s*input\s*=")
    assert fix["edits"][0]["text"] == json.dumps(before(built, "terraform_data.image", "input"))


def test_for_each_value_reaches_the_data_source_and_the_pin_edits_only_that_key(real_plans):
    built = real_plans[SCENARIO]
    finding = by_address(report(built))['aws_instance.by_value["web"]']
    assert refs(finding) == ["aws_instance.by_value.ami", 'each.value ("web")', 'for_each["web"]', "data.aws_ami.base"]
    fix = pin(finding)
    assert fix["strategy"] == "pin"
    assert fix["edits"][0]["attribute"] == "web" and fix["edits"][0]["find"] == "data.aws_ami.base.id"
    assert fix["edits"][0]["line"] == line_of(built.dir / "main.tf", r"for_each\s*=\s*\{\s*web")
    assert fix["edits"][0]["text"] == json.dumps(before(built, 'aws_instance.by_value["web"]', "ami"))


def test_keyed_data_source_facts_come_from_the_instance_it_reads(real_plans):
    built = real_plans[SCENARIO]
    found = by_address(report(built))
    for key in ("web", "api"):
        finding = found[f'aws_instance.by_role["{key}"]']
        data = data_values(built, f'data.aws_ami.role["{key}"]')
        assert finding["facts"]["data_source"] == f'data.aws_ami.role["{key}"]'
        assert finding["facts"]["new_image_name"] == data["name"]
        assert finding["facts"]["new_image_id"] == data["id"] == finding["values"][0]["after"]
    assert found['aws_instance.by_role["web"]']["facts"]["new_image_name"].startswith("engine-base-")
    assert found['aws_instance.by_role["api"]']["facts"]["new_image_name"].startswith("engine-app-")
    # One line serves both keys, which run different images today: no single pin; a pin per key
    # (lookup by each.key) keeps each instance's own image, and auto mode would ignore instead.
    fix = pin(found['aws_instance.by_role["web"]'])
    assert fix["strategy"] == "pin-keys"
    assert before(built, 'aws_instance.by_role["web"]', "ami") in fix["edits"][0]["text"]
    assert before(built, 'aws_instance.by_role["api"]', "ami") in fix["edits"][0]["text"]
    assert "each.key, data.aws_ami.role[each.key].id)" in fix["edits"][0]["text"]


def test_module_output_pin_goes_at_the_callers_line_not_in_the_module(real_plans):
    built = real_plans[SCENARIO]
    finding = by_address(report(built))["aws_instance.from_output"]
    assert refs(finding) == ["aws_instance.from_output.ami", "module.images.app_ami", "data.aws_ami.app"]
    assert finding["facts"]["data_source"] == "module.images.data.aws_ami.app"
    fix = pin(finding)
    assert fix["edits"][0]["file"] == "main.tf"
    assert fix["edits"][0]["line"] == line_of(built.dir / "main.tf", r"ami\s*=\s*module\.images\.app_ami")
    assert fix["edits"][0]["find"] == "module.images.app_ami"
    assert "modules/img" not in json.dumps(finding["fixes"])  # nothing written into the module


def test_user_data_hash_is_never_offered_as_a_pin(real_plans):
    built = real_plans[SCENARIO]
    finding = by_address(report(built))["aws_instance.user_data"]
    digest = before(built, "aws_instance.user_data", "user_data")
    assert re.fullmatch(r"[0-9a-f]{40}", digest)
    assert pin(finding) is None
    snippets = " ".join(f.get("snippet") or "" for f in finding["fixes"])
    assert digest not in snippets
    assert "ignore_changes = [user_data]" in snippets


def test_conditional_and_locals_pins_replace_only_the_reference(real_plans):
    built = real_plans[SCENARIO]
    found = by_address(report(built))
    old = before(built, "aws_instance.conditional", "ami")
    cond = pin(found["aws_instance.conditional"])
    assert cond["snippet"] == f'ami = var.use_pinned ? var.pinned : "{old}"'
    local = pin(found["aws_instance.via_locals"])
    assert local["snippet"] == f'base_ami = "{old}"'
    assert local["edits"][0]["line"] == line_of(built.dir / "main.tf", r"^\s*base_ami\s*=")
    assert refs(found["aws_instance.via_locals"]) == [
        "aws_instance.via_locals.ami", "local.chosen_ami", "local.base_ami", "data.aws_ami.base"]


def test_one_image_many_instances_is_one_group(real_plans):
    built = real_plans[SCENARIO]
    doc = report(built)
    base = [g for g in doc["groups"] if g["root"].startswith("data.aws_ami.base picked")]
    assert len(base) == 1
    assert sorted(base[0]["addresses"]) == sorted([
        'aws_instance.by_value["web"]', "aws_instance.conditional", "aws_instance.triggered",
        "aws_instance.via_locals"])
    text = guard(built, "check", "plan.json", "-C", ".").stdout
    assert "4 resources, one cause: data.aws_ami.base picked" in text


def test_explain_and_check_agree(real_plans):
    built = real_plans[SCENARIO]
    result = guard(built, "explain", "plan.json", 'aws_instance.by_role["api"]', "-C", ".")
    assert result.returncode == 0, result.stderr
    data = data_values(built, 'data.aws_ami.role["api"]')
    old = before(built, 'aws_instance.by_role["api"]', "ami")
    assert f"ami: {old} -> {data['id']}" in result.stdout
    assert "image_drift" in result.stdout and 'data.aws_ami.role["api"]' in result.stdout
