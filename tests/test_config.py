"""The config file and --allow: severities, extra stateful types, allow entries with expiry."""

from __future__ import annotations

import copy
import json
import os
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from handmade import ami_drift_plan, write

from guard.cli import cli
from guard.config import AddressPattern, load_config


def run(args: list[str], cwd: Path):
    """Run the CLI in `cwd`, where it looks for its config file."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(old)


def test_without_config_the_ami_drift_fails(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 1
    assert [f["rule"] for f in json.loads(result.output)["findings"]] == ["TFG001"]


def test_severity_override_in_dot_file(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('[severity]\nTFG001 = "warning"\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"][0]["severity"] == "warning"
    assert run(["check", str(plan), "--fail-on", "warning"], tmp_path).exit_code == 1


def test_rule_off_in_pyproject(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.replace-guard.severity]\nTFG001 = "off"\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0
    assert json.loads(result.output)["findings"] == []


def test_allow_entry_suppresses_and_is_reported(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.*"\nrule = "TFG001"\nreason = "rebuilt nightly anyway"\n'
        'expires = 2999-01-01\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["findings"] == []
    assert report["allowed"][0]["allowed_by"].endswith("rebuilt nightly anyway")


def test_expired_allow_entry_stops_applying_and_says_so(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.app"\nreason = "temporary"\nexpires = 2020-01-31\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 1
    assert "expired on 2020-01-31" in result.output


def test_allow_option_with_rule(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    assert run(["check", str(plan), "--allow", "aws_instance.app:TFG002"], tmp_path).exit_code == 1
    assert run(["check", str(plan), "--allow", "aws_instance.app:TFG001"], tmp_path).exit_code == 0
    assert run(["check", str(plan), "--allow", "aws_instance.*"], tmp_path).exit_code == 0


def test_extra_stateful_types_are_accepted(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('stateful-types = ["aws_cloudformation_stack"]\n')
    assert run(["check", str(plan)], tmp_path).exit_code == 1


def test_unknown_key_is_exit_2_naming_key_and_file(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('[severty]\nTFG001 = "warning"\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml" in result.output and "severty" in result.output


def test_bad_value_names_the_key(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    cfg = tmp_path / "guard.toml"
    cfg.write_text('[[allow]]\naddress = "x"\n')
    result = run(["check", str(plan), "--config", str(cfg)], tmp_path)
    assert result.exit_code == 2
    assert "guard.toml" in result.output and "reason" in result.output
    cfg.write_text('[severity]\nTFG001 = "fatal"\n')
    result = run(["check", str(plan), "--config", str(cfg)], tmp_path)
    assert result.exit_code == 2 and "severity.TFG001" in result.output


def test_broken_toml_is_exit_2(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text("severity = [\n")
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2 and "not valid TOML" in result.output


# -- the README's examples --------------------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_toml_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```toml\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_readme_has_toml_examples():
    assert readme_toml_blocks(), "the README's Config section has no ```toml example"


@pytest.mark.parametrize("n", range(len(readme_toml_blocks())))
def test_readme_config_example_loads_as_pasted(tmp_path, n):
    block = readme_toml_blocks()[n]
    (tmp_path / ".replace-guard.toml").write_text(block, encoding="utf-8")
    cfg = load_config(None, tmp_path)
    data = tomllib.loads(block)
    assert cfg.path == str(tmp_path / ".replace-guard.toml") or cfg.path.endswith(".replace-guard.toml")
    assert cfg.stateful_types == data.get("stateful-types", [])
    assert cfg.severity == data.get("severity", {})
    assert [a.address for a in cfg.allow] == [a["address"] for a in data.get("allow", [])]


def test_a_top_level_key_after_a_table_header_is_explained(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('[severity]\nTFG010 = "error"\n\nstateful-types = ["x"]\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml:4:" in result.stderr and "stateful-types" in result.stderr
    assert "top-level key" in result.stderr


# -- allow addresses in Terraform's syntax ----------------------------------------------------------

def plan_with(addresses: list[str]) -> dict:
    """One TFG001 finding per address (instances of aws_instance.app, or other resources)."""
    plan = ami_drift_plan(addresses[0])
    resources = plan["configuration"]["root_module"]["resources"]
    for address in addresses[1:]:
        plan["resource_changes"] += ami_drift_plan(address)["resource_changes"]
    for address in addresses:
        base = address.split("[", 1)[0]
        if not any(r["address"] == base for r in resources):
            cfg = copy.deepcopy(resources[1])
            cfg["address"], cfg["name"] = base, base.split(".")[1]
            resources.append(cfg)
    return plan


def findings_left(tmp_path, addresses: list[str], allow: list[str]) -> tuple[list[str], list[str]]:
    plan = write(tmp_path, plan_with(addresses))
    args = ["check", str(plan), "--format", "json"]
    for a in allow:
        args += ["--allow", a]
    result = run(args, tmp_path)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    return [f["address"] for f in report["findings"]], report["notes"]


def test_exact_keyed_addresses_can_be_allowed(tmp_path):
    left, _ = findings_left(tmp_path, ['aws_instance.app["blue"]', 'aws_instance.app["green"]'],
                            ['aws_instance.app["blue"]'])
    assert left == ['aws_instance.app["green"]']
    left, _ = findings_left(tmp_path, ["aws_instance.app[0]", "aws_instance.app[1]"], ["aws_instance.app[0]"])
    assert left == ["aws_instance.app[1]"]


def test_an_address_without_key_allows_every_instance_and_nothing_else(tmp_path):
    left, _ = findings_left(tmp_path, ['aws_instance.app["blue"]', "aws_instance.app[3]", "aws_instance.app_db"],
                            ["aws_instance.app"])
    assert left == ["aws_instance.app_db"]


def test_the_readme_module_pattern_matches_keyed_module_instances(tmp_path):
    plan = write(tmp_path, ami_drift_plan('module.batch["eu"].aws_instance.worker', module="batch"))
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "module.batch[*].aws_instance.worker"\nreason = "rebuilt nightly"\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert [f["address"] for f in json.loads(result.stdout)["allowed"]] == ['module.batch["eu"].aws_instance.worker']


@pytest.mark.parametrize("pattern, address, expected", [
    ("aws_instance.app", "aws_instance.app", True),
    ("aws_instance.app", 'aws_instance.app["a.b"]', True),
    ("aws_instance.app", "aws_instance.app_db", False),
    ("aws_instance.app", "module.x.aws_instance.app", False),
    ('aws_instance.app["blue"]', 'aws_instance.app["blue"]', True),
    ('aws_instance.app["blue"]', 'aws_instance.app["green"]', False),
    ('aws_instance.app["blue"]', "aws_instance.app", False),
    ('aws_instance.app["b*"]', 'aws_instance.app["blue"]', False),  # keys are literal
    ("aws_instance.app[0]", 'aws_instance.app["0"]', False),
    ("aws_instance.app[*]", "aws_instance.app[7]", True),
    ("aws_instance.app[*]", "aws_instance.app", False),
    ("aws_instance.*", 'aws_instance.web["x"]', True),
    ("aws_instance.*", "module.m.aws_instance.web", False),
    ("aws_instance.app*", "aws_instance.app_db", True),
    ("module.*.aws_instance.app", 'module.web["eu"].aws_instance.app[0]', True),
    ("module.batch[*].aws_instance.worker", "module.batch.aws_instance.worker", False),
    ('aws_instance.app["say \\"hi\\""]', 'aws_instance.app["say \\"hi\\""]', True),
])
def test_address_pattern_semantics(pattern, address, expected):
    assert AddressPattern(pattern).matches(address) is expected


@pytest.mark.parametrize("bad", ["aws_instance.app[blue]", "aws_instance.app[", "aws_instance..app",
                                 "aws instance.app", 'aws_instance.app["x"]y'])
def test_malformed_allow_address_is_exit_2_with_line(tmp_path, bad):
    plan = write(tmp_path, ami_drift_plan())
    body = '[[allow]]\nreason = "x"\naddress = ' + json.dumps(bad) + "\n"
    (tmp_path / ".replace-guard.toml").write_text(body)
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2, result.output
    assert ".replace-guard.toml:3:" in result.stderr and "allow[0].address" in result.stderr
    assert "Traceback" not in result.output


# -- rule ids, reasons, unused entries, lines -------------------------------------------------------

def test_unknown_rule_in_severity_names_line_key_and_nearest_id(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('fail-on = "error"\n\n[severity]\nTFG01 = "warning"\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml:4:" in result.stderr and "severity.TFG01" in result.stderr
    assert "did you mean TFG001?" in result.stderr


def test_rule_ids_come_from_the_registry(tmp_path, monkeypatch):
    from guard import rules

    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('[severity]\nTFG012 = "off"\n')
    if "TFG012" not in rules.RULES_BY_ID:
        assert run(["check", str(plan)], tmp_path).exit_code == 2
        monkeypatch.setitem(rules.RULES_BY_ID, "TFG012", rules.RULES_BY_ID["TFG001"])
    assert run(["check", str(plan)], tmp_path).exit_code == 1


def test_unknown_rule_in_allow_entry_is_exit_2(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.app"\nreason = "ok"\n\n[[allow]]\naddress = "aws_instance.app"\n'
        'rule = "TFG999"\nreason = "ok"\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml:7:" in result.stderr and "allow[1].rule" in result.stderr
    assert "TFG999" in result.stderr and "TFG001" in result.stderr  # the valid ids are listed


def test_unknown_rule_in_allow_option_is_exit_2(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    result = run(["check", str(plan), "--allow", "aws_instance.app:TFG999"], tmp_path)
    assert result.exit_code == 2
    assert "--allow" in result.stderr and "TFG999" in result.stderr
    assert run(["check", str(plan), "--allow", "aws_instance.app:tfg001"], tmp_path).exit_code == 0


@pytest.mark.parametrize("reason", ['""', '"   "', '"\\t\\n"'])
def test_blank_reason_is_exit_2(tmp_path, reason):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(f'[[allow]]\naddress = "aws_instance.app"\nreason = {reason}\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml:3:" in result.stderr and "allow[0].reason" in result.stderr and "blank" in result.stderr


def test_unknown_key_suggests_the_nearest_and_names_the_line(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.app"\nreason = "ok"\nexpire = 2030-01-01\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert ".replace-guard.toml:4:" in result.stderr and "allow[0].expire" in result.stderr
    assert "did you mean `expires`?" in result.stderr


def test_lines_in_pyproject(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.replace-guard.severity]\nTFG001 = "warning"\nTFG002 = "fatal"\n')
    result = run(["check", str(plan)], tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml:6:" in result.stderr and "tool.replace-guard.severity.TFG002" in result.stderr
    assert "'fatal' is not one of" in result.stderr


def test_allow_entry_that_matches_nothing_is_reported(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text(
        '[[allow]]\naddress = "aws_instance.app"\nreason = "used"\n\n'
        '[[allow]]\naddress = "aws_instance.gone"\nreason = "stale"\n\n'
        '[[allow]]\naddress = "aws_instance.app"\nrule = "TFG010"\nreason = "other rule"\n')
    result = run(["check", str(plan), "--format", "json", "--allow", "aws_instance.nothing"], tmp_path)
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    unused = [n for n in notes if "matched nothing" in n]
    assert len(unused) == 3, notes
    assert any(n.startswith(".replace-guard.toml:5: allow entry for aws_instance.gone") for n in unused)
    assert any(n.startswith(".replace-guard.toml:9: allow entry for aws_instance.app (TFG010)") for n in unused)
    assert any(n.startswith("--allow: allow entry for aws_instance.nothing") for n in unused)
    assert "matched nothing" in run(["check", str(plan), "--allow", "aws_instance.nothing"], tmp_path).output


def test_allowed_by_names_the_entry_line(tmp_path):
    plan = write(tmp_path, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('# allows\n\n[[allow]]\naddress = "aws_instance.app"\nreason = "ok"\n')
    result = run(["check", str(plan), "--format", "json"], tmp_path)
    assert json.loads(result.stdout)["allowed"][0]["allowed_by"] == ".replace-guard.toml:3: ok"


# -- where the config is looked for ------------------------------------------------------------------

MAIN_TF = 'data "aws_ami" "al2" {\n  most_recent = true\n}\n\nresource "aws_instance" "app" {\n  ami = data.aws_ami.al2.id\n}\n'


def test_config_beside_the_plan_and_sources_is_found_from_elsewhere(tmp_path):
    """The pre-commit flow: run from the repository root, the plan lies in the root module folder."""
    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(MAIN_TF)
    write(infra, ami_drift_plan(), "tfplan.json")
    (infra / ".replace-guard.toml").write_text('[severity]\nTFG001 = "warning"\n')
    result = run(["check", "infra/tfplan.json", "--format", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"][0]["severity"] == "warning"


def test_config_with_dash_c_is_read_from_that_folder(tmp_path):
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(MAIN_TF)
    (infra / ".replace-guard.toml").write_text('fail-on = "never"\n')
    plan = write(tmp_path / "infra", ami_drift_plan())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run(["check", str(plan), "-C", str(infra)], elsewhere).exit_code == 0


def test_config_search_goes_up_to_the_repository_root_and_no_further(tmp_path):
    repo = tmp_path / "repo"
    infra = repo / "stacks" / "prod"
    infra.mkdir(parents=True)
    (infra / "main.tf").write_text(MAIN_TF)
    plan = write(infra, ami_drift_plan())
    (tmp_path / ".replace-guard.toml").write_text('fail-on = "never"\n')  # outside the repository
    (repo / ".git").mkdir()
    assert run(["check", str(plan)], infra).exit_code == 1
    (repo / "pyproject.toml").write_text('[tool.replace-guard]\nfail-on = "never"\n')
    assert run(["check", str(plan)], infra).exit_code == 0
    # The nearest file wins.
    (repo / "stacks" / ".replace-guard.toml").write_text('fail-on = "error"\n')
    assert run(["check", str(plan)], infra).exit_code == 1
