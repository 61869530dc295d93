"""The report formats: markdown, sarif, junit, github, gitlab (and plan text as data in every format).

Plans are built by hand here (the AMI-drift shape: `data.aws_ami` with most_recent = true feeding
`aws_instance.app.ami`), so the tests need no Terraform.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.analyze import PlanSummary, Report
from guard.cli import cli
from guard.findings import ChainLink, Finding, Fix, Location, Severity
from guard.format import FORMATS, RenderOptions, get_formatter
from guard.format.github import escape_data, escape_property
from guard.format.markdown import MARKER, code, size, text
from guard.format.safe import one_line
from guard.rules import ALL_RULES

# A copy of ../shared/schemas/sarif-2.1.0.json (the official SARIF 2.1.0 schema), so a clone runs these tests.
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "sarif-2.1.0.json"

# The key from the issue, and a nastier one: CR, the runner's old `##[` syntax, a property
# separator, percent escapes, backticks, a pipe, an HTML entity, a team mention and an issue ref.
ISSUE_KEY = "evil\n::error::x <b>hi</b> ]]> @admin"
NASTY_KEY = ("k\r\n  ::warning file=x.tf,line=1::pwn ##[error]legacy %0A%25 ``x`` | pipe &amp; "
             "<script>alert(1)</script> @org/team #12 \x1b[31mred")
KEYS = {"issue": ISSUE_KEY, "nasty": NASTY_KEY}

MAIN_TF = """data "aws_ami" "al2" {
  most_recent = true
  owners      = ["amazon"]
}

resource "aws_instance" "app" {
  for_each      = var.names
  ami           = data.aws_ami.al2.id
  instance_type = "t3.micro"
}
"""


def drift_plan(key: str | None = None, *, actions=("delete", "create"), old="ami-0aaa1111",
               new="ami-0bbb2222") -> dict:
    """A plan where a new image from data.aws_ami (most_recent) replaces aws_instance.app[key]."""
    address = "aws_instance.app" if key is None else f'aws_instance.app["{key}"]'
    change = {
        "address": address, "mode": "managed", "type": "aws_instance", "name": "app",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": list(actions), "before": {"ami": old, "instance_type": "t3.micro"},
                   "after": {"ami": new, "instance_type": "t3.micro"}, "after_unknown": {"id": True},
                   "before_sensitive": {}, "after_sensitive": {}, "replace_paths": [["ami"]]},
        "action_reason": "replace_because_cannot_update",
    }
    if key is not None:
        change["index"] = key
    return {
        "format_version": "1.2", "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": [change],
        "configuration": {"provider_config": {"aws": {"name": "aws"}}, "root_module": {"resources": [
            {"address": "data.aws_ami.al2", "mode": "data", "type": "aws_ami", "name": "al2",
             "provider_config_key": "aws",
             "expressions": {"most_recent": {"constant_value": True}, "owners": {"constant_value": ["amazon"]}}},
            {"address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
             "provider_config_key": "aws", "for_each_expression": {"references": ["var.names"]},
             "expressions": {"ami": {"references": ["data.aws_ami.al2.id", "data.aws_ami.al2"]},
                             "instance_type": {"constant_value": "t3.micro"}}},
        ]}},
    }


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A root module folder (main.tf) as the current directory, outside any GitHub workspace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    (tmp_path / "main.tf").write_text(MAIN_TF, encoding="utf-8")
    return tmp_path


def write_plan(folder: Path, plan: dict, name: str = "plan.json") -> str:
    (folder / name).write_text(json.dumps(plan), encoding="utf-8")
    return name


def sarif_validator():
    from jsonschema import Draft7Validator

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_valid_sarif(doc: dict) -> None:
    errors = sorted(sarif_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


# The default location of `finding`: one instance, shared by every call, as a default argument was.
AT_LINE_8 = Location(file="main.tf", line=8)


def finding(rule="TFG001", severity="error", address="aws_instance.app", plan="plan.json",
            location: Location | None = AT_LINE_8, **kw) -> Finding:
    kw.setdefault("message", f"{address} will be replaced because `ami` changes.")
    return Finding(rule=rule, severity=Severity(severity), title=f"{address} will be replaced", address=address,
                   plan=plan, actions=["delete", "create"], replace_paths=[["ami"]], location=location,
                   chain=[ChainLink(ref="aws_instance.app.ami", kind="attribute", location=location),
                          ChainLink(ref="data.aws_ami.al2", kind="data_source", details=["most_recent = true"])],
                   fixes=[Fix(title="Pin the AMI", detail="use the image it runs now", snippet='ami = "ami-1"')], **kw)


def report(findings, fail_on="error", plans=("plan.json",), suppressed=()) -> Report:
    return Report(findings=list(findings), fail_on=fail_on, suppressed=list(suppressed),
                  plans=[PlanSummary(label=p, terraform_version="1.11.4", format_version="1.2",
                                     create=1, delete=1, replace=1) for p in plans])


def render(fmt: str, rep: Report) -> str:
    return get_formatter(fmt).render(rep, RenderOptions())


# -- parsing what GitHub's runner would parse ---------------------------------------------------

COMMAND_LINE = re.compile(r"^::(error|warning|notice)( [^:]*)?::(.*)$")


def runner_commands(output: str) -> list[str]:
    """Lines GitHub's runner would act on: `::cmd` at a line start (after spaces), `##[` anywhere."""
    out = []
    for line in re.split(r"\r\n|\r|\n", output):
        if line.lstrip().startswith("::") or "##[" in line:
            out.append(line)
    return out


def parse_annotation(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND_LINE.match(line)
    assert m, line
    props = {}
    for part in (m.group(2) or "").strip().split(","):
        if part:
            key, _, value = part.partition("=")
            props[key] = (value.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
                          .replace("%2C", ",").replace("%25", "%"))
    data = m.group(3).replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
    return m.group(1), props, data


def unescaped_pipes(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


# -- the registry -------------------------------------------------------------------------------

def test_every_format_is_registered_and_named():
    assert set(FORMATS) >= {"text", "json", "markdown", "sarif", "junit", "github", "gitlab", "codequality"}
    for name in FORMATS:
        assert get_formatter(name).name == name


def test_cli_offers_the_new_formats(workdir):
    code, out, _ = run(["check", "--help"])
    assert code == 0
    for name in ("markdown", "sarif", "junit", "github", "gitlab", "codequality", "--compact"):
        assert name in out


# -- plan text is data, in every format ---------------------------------------------------------

@pytest.mark.parametrize("key_name", sorted(KEYS))
@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif", "junit", "github", "gitlab", "codequality"])
def test_a_hostile_for_each_key_injects_nothing(workdir, fmt, key_name):
    key = KEYS[key_name]
    address = f'aws_instance.app["{key}"]'
    hostile = drift_plan(key)
    # Terraform's reason for the action is plan text too.
    hostile["resource_changes"][0]["action_reason"] = f"replace_because_cannot_update{key}"
    plan = write_plan(workdir, hostile)
    code, out, err = run(["check", plan, "--format", fmt])
    assert code == 1, err
    # No format may print a line the GitHub runner acts on, except the guard's own annotations.
    commands = runner_commands(out)
    if fmt == "github":
        assert len(commands) == 1
        command, props, data = parse_annotation(commands[0])
        assert command == "error" and props["file"] == "main.tf" and props["line"] == "8"
        assert props["title"].startswith("TFG001")
        # The key stays on one line of the annotation, shown with visible escapes.
        assert "\n" not in props["title"] and "\\n" in props["title"]
        assert data.splitlines()[0].startswith('aws_instance.app["')
    else:
        assert commands == [], commands

    if fmt == "text":
        title = next(line for line in out.splitlines() if line.startswith("error TFG001"))
        assert 'aws_instance.app["' in title and title.rstrip().endswith("picked a new image")
        message = next(line for line in out.splitlines() if line.strip().startswith('aws_instance.app["'))
        assert "will be replaced" in message
        assert "\x1b" not in out and "\r" not in out
    elif fmt == "json":
        doc = json.loads(out)
        assert doc["findings"][0]["rule"] == "TFG001"
        assert doc["findings"][0]["address"] == address
    elif fmt == "markdown":
        assert out.startswith(MARKER + "\n")
        for raw in ("<b>", "<script", "@admin", "@org", "]]>", "#12", "``x``", "\x1b", "\r"):
            assert raw not in out
        row = next(line for line in out.splitlines() if line.startswith("| 1 |"))
        assert unescaped_pipes(row) == 7  # six cells: the key's `|` did not add one
    elif fmt == "sarif":
        doc = json.loads(out)
        assert_valid_sarif(doc)
        res = doc["runs"][0]["results"][0]
        assert res["ruleId"] == "TFG001"
        assert res["properties"]["address"] == address
        assert res["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == address
    elif fmt == "junit":
        root = ET.fromstring(out)
        assert {el.tag for el in root.iter()} <= {"testsuites", "testsuite", "testcase", "failure", "system-out", "skipped"}
        case = root.find("testsuite/testcase")
        # The name is the address as every format shows plan text: on one line, controls escaped.
        expected = one_line(address)
        assert "\n" not in expected and "\x1b" not in expected
        assert case.get("name") == expected
        failure = case.find("failure")
        assert failure.get("type") == "TFG001" and expected in failure.get("message")
        assert 'aws_instance.app["' in failure.text
    elif fmt == "gitlab":
        assert json.loads(out) == {"create": 1, "update": 0, "delete": 1}
    elif fmt == "codequality":
        (issue,) = json.loads(out)
        assert issue["location"] == {"path": "main.tf", "lines": {"begin": 8}}
        assert issue["description"].startswith('TFG001 aws_instance.app["') and "\n" not in issue["description"]
    if fmt not in ("json", "sarif", "gitlab", "codequality"):
        for raw in ("\x1b", "\r"):
            assert raw not in out, raw


def test_the_hand_made_plan_fires_tfg001_first(workdir):
    plan = write_plan(workdir, drift_plan(ISSUE_KEY))
    code, out, _ = run(["check", plan, "--format", "json"])
    doc = json.loads(out)
    assert code == 1 and doc["findings"][0]["rule"] == "TFG001"
    assert doc["findings"][0]["location"] == {"file": "main.tf", "line": 8}


# -- github -------------------------------------------------------------------------------------

def test_github_escapes_data_and_properties_as_the_runner_unescapes_them():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_data("%0A stays literal") == "%250A stays literal"
    assert escape_data("a::b, c:d") == "a::b, c:d"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_property("%3A") == "%253A"


def test_github_annotation_properties_cannot_be_split():
    f = finding(address='aws_instance.app["a,line=99,title=x::y"]',
                location=Location(file="dir,with:odd/main.tf", line=3))
    out = render("github", report([f]))
    command, props, data = parse_annotation(out.splitlines()[0])
    assert set(props) == {"file", "line", "title"}
    assert props["file"] == "dir,with:odd/main.tf" and props["line"] == "3"
    assert props["title"] == 'TFG001 ami-drift: aws_instance.app["a,line=99,title=x::y"]'


def test_github_shows_at_most_ten_per_severity_and_says_how_many_it_left_out():
    findings = ([finding(address=f"aws_instance.e{i:02d}") for i in range(25)]
                + [finding(rule="TFG010", severity="warning", address=f"aws_ebs_volume.w{i}") for i in range(3)]
                + [finding(rule="TFG020", severity="notice", address=f"aws_launch_template.n{i:02d}") for i in range(12)])
    out = render("github", report(findings))
    lines = out.splitlines()
    kinds = [parse_annotation(line)[0] for line in lines if line.startswith("::")]
    assert kinds.count("error") == 10 and kinds.count("warning") == 3 and kinds.count("notice") == 10
    assert len(lines) == 24  # 23 annotations and one closing line
    assert not lines[-1].startswith("::")
    assert "17 annotation(s) left out" in lines[-1]
    assert "15 error(s)" in lines[-1] and "2 notice(s)" in lines[-1] and "warning(s))" not in lines[-1]


def test_github_summary_line_without_anything_left_out():
    out = render("github", report([finding()]))
    assert "left out" not in out.splitlines()[-1]
    assert out.splitlines()[-1].startswith("replace-guard FAIL: 1 error(s)")


def test_github_paths_are_relative_to_the_workspace(tmp_path, monkeypatch):
    infra = tmp_path / "repo" / "infra"
    infra.mkdir(parents=True)
    monkeypatch.chdir(infra)
    f = finding(location=Location(file="main.tf", line=8))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "repo"))
    assert parse_annotation(render("github", report([f])).splitlines()[0])[1]["file"] == "infra/main.tf"
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "elsewhere"))
    assert parse_annotation(render("github", report([f])).splitlines()[0])[1]["file"] == "main.tf"
    monkeypatch.delenv("GITHUB_WORKSPACE")
    assert parse_annotation(render("github", report([f])).splitlines()[0])[1]["file"] == "main.tf"


def test_github_without_a_location_annotates_the_run_not_a_file():
    _, props, _ = parse_annotation(render("github", report([finding(location=None)])).splitlines()[0])
    assert "file" not in props and "line" not in props


# -- sarif --------------------------------------------------------------------------------------

def test_sarif_describes_every_rule(workdir):
    doc = json.loads(render("sarif", report([])))
    assert_valid_sarif(doc)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in ALL_RULES]
    level = {"error": "error", "warning": "warning", "notice": "note"}
    for descriptor, rule in zip(rules, ALL_RULES, strict=True):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.why
        assert rule.fix in descriptor["help"]["text"] and rule.example in descriptor["help"]["text"]
        assert rule.fix in descriptor["help"]["markdown"] and rule.example in descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == level[rule.severity.value]


def test_sarif_results_levels_locations_and_fingerprints(workdir):
    findings = [finding(), finding(rule="TFG010", severity="warning", address="aws_ebs_volume.data"),
                finding(rule="TFG020", severity="notice", address="aws_launch_template.lt", location=None)]
    out = render("sarif", report(findings))
    doc = json.loads(out)
    assert_valid_sarif(doc)
    results = doc["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {"uri": "main.tf", "uriBaseId": "%SRCROOT%"}
    assert first["region"]["startLine"] == 8
    # Without sources: the plan file, line 1.
    third = results[2]["locations"][0]["physicalLocation"]
    assert third["artifactLocation"]["uri"] == "plan.json" and third["region"]["startLine"] == 1
    for res, f in zip(results, findings, strict=True):
        assert list(res["partialFingerprints"].values()) == [f.fingerprint]
    assert len({r["partialFingerprints"]["replaceGuardFinding/v1"] for r in results}) == 3
    # Rule index points at the descriptor of the same id, where the rule exists.
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    for res in results:
        if "ruleIndex" in res:
            assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    assert render("sarif", report(findings)) == out  # deterministic


def test_sarif_fingerprint_is_stable_when_lines_and_values_move(workdir):
    a = finding(location=Location(file="main.tf", line=8))
    b = finding(location=Location(file="main.tf", line=30), message="other words")
    fa = json.loads(render("sarif", report([a])))["runs"][0]["results"][0]["partialFingerprints"]
    fb = json.loads(render("sarif", report([b])))["runs"][0]["results"][0]["partialFingerprints"]
    assert fa == fb
    c = finding(address="aws_instance.other")
    fc = json.loads(render("sarif", report([c])))["runs"][0]["results"][0]["partialFingerprints"]
    assert fc != fa


def test_sarif_paths_are_uri_references(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    f = finding(location=Location(file="my stacks/a#b/main.tf", line=2))
    doc = json.loads(render("sarif", report([f])))
    assert_valid_sarif(doc)
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "my%20stacks/a%23b/main.tf", "uriBaseId": "%SRCROOT%"}


def test_sarif_from_standard_input_and_allowed_findings_still_validate(workdir):
    allowed = finding(address="aws_instance.kept", plan="-", location=None, allowed_by=".replace-guard.toml: known")
    doc = json.loads(render("sarif", report([finding(plan="-", location=None)], suppressed=[allowed])))
    assert_valid_sarif(doc)
    results = doc["runs"][0]["results"]
    assert "physicalLocation" not in results[0]["locations"][0]
    assert results[1]["suppressions"][0]["justification"] == ".replace-guard.toml: known"


def test_sarif_with_notes_validates(workdir):
    rep = report([finding()])
    rep.notes.append(".replace-guard.toml: allow entry for aws_instance.x expired on 2024-01-01; it no longer applies")
    doc = json.loads(render("sarif", rep))
    assert_valid_sarif(doc)
    notes = doc["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert notes[0]["message"]["text"] == rep.notes[0] and notes[0]["level"] == "note"


def test_sarif_message_cannot_form_links():
    f = finding(address='aws_instance.app["[click](https://evil.example)"]')
    text_ = json.loads(render("sarif", report([f])))["runs"][0]["results"][0]["message"]["text"]
    assert "](" not in text_.replace("\\]", "")


def test_sarif_from_the_cli_validates(workdir):
    plan = write_plan(workdir, drift_plan())
    code, out, _ = run(["check", plan, "--format", "sarif"])
    assert code == 1
    doc = json.loads(out)
    assert_valid_sarif(doc)
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 8


# -- junit --------------------------------------------------------------------------------------

def test_junit_fails_only_findings_at_or_above_fail_on():
    findings = [finding(), finding(rule="TFG010", severity="warning", address="aws_ebs_volume.w"),
                finding(rule="TFG020", severity="notice", address="aws_launch_template.n")]
    for fail_on, failing in (("error", 1), ("warning", 2), ("notice", 3), ("never", 0)):
        root = ET.fromstring(render("junit", report(findings, fail_on=fail_on)))
        cases = root.findall("testsuite/testcase")
        assert [c.get("name") for c in cases] == [f.address for f in findings]
        assert sum(c.find("failure") is not None for c in cases) == failing
        assert root.get("tests") == "3" and root.get("failures") == str(failing)
        assert root.find("testsuite").get("failures") == str(failing)
        for c in cases:
            if c.find("failure") is None:
                assert "will be replaced" in c.find("system-out").text


def test_junit_passing_testcase_for_a_plan_without_findings_and_skipped_for_allowed():
    allowed = finding(address="aws_instance.kept", plan="b.json", allowed_by="config: known")
    rep = report([finding(plan="a.json")], plans=("a.json", "b.json"), suppressed=[allowed])
    root = ET.fromstring(render("junit", rep))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["replace-guard a.json", "replace-guard b.json"]
    b_cases = suites[1].findall("testcase")
    assert len(b_cases) == 2
    assert b_cases[0].find("skipped") is not None and "known" in b_cases[0].find("skipped").get("message")
    assert b_cases[1].find("failure") is None and b_cases[1].find("skipped") is None
    assert suites[1].get("tests") == "2" and suites[1].get("skipped") == "1" and suites[1].get("failures") == "0"
    assert root.get("tests") == "3" and root.get("failures") == "1"


def test_junit_carries_file_and_line_and_survives_control_characters():
    f = finding(address='aws_instance.app["a\x00b\x1bc\ud800"]')
    out = render("junit", report([f]))
    case = ET.fromstring(out).find("testsuite/testcase")
    assert case.get("file") == "main.tf" and case.get("line") == "8"
    assert case.get("name") == 'aws_instance.app["a\\x00b\\x1bc\\ud800"]'


# -- markdown -----------------------------------------------------------------------------------

def test_markdown_table_chain_and_fixes(workdir):
    plan = write_plan(workdir, drift_plan())
    code, out, _ = run(["check", plan, "--format", "markdown"])
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == MARKER
    assert "| # | Severity | Rule | Resource | Action | Where |" in lines
    row = next(line for line in lines if line.startswith("| 1 |"))
    assert "TFG001" in row and "<code>main\\.tf\\:8</code>" in row
    assert "<details>" in out and "</details>" in out
    assert "<pre>" in out and "&lt;- data.aws_ami.al2" in out  # the chain
    assert "**Fixes**" in out and "Pin the AMI the instance runs now" in out


def test_markdown_without_findings_says_so():
    out = render("markdown", report([]))
    assert out.startswith(MARKER + "\n")
    assert "no resource is destroyed or replaced unasked" in out and "<table" not in out and "| # |" not in out


def test_markdown_stays_under_the_comment_limit_and_counts_what_it_left_out():
    findings = [finding(address=f'aws_instance.app["{"x" * 250}{i}"]') for i in range(600)]
    out = render("markdown", report(findings))
    assert size(out) < 65_536 and len(out) < 65_536
    rows = [line for line in out.splitlines() if re.match(r"^\| \d+ \|", line)]
    sections = out.count("<details><summary>")
    assert 0 < len(rows) < 600
    m = re.search(r"(\d+) finding\(s\) left out of the table, details of (\d+) finding\(s\) left out", out)
    assert m, out[-500:]
    assert int(m.group(1)) == 600 - len(rows) and int(m.group(2)) == 600 - sections


def test_markdown_truncates_one_huge_value():
    f = finding(address="aws_instance." + "y" * 200_000)
    out = render("markdown", report([f]))
    assert size(out) < 65_536 and "<details>" in out


def test_markdown_chain_and_snippets_cannot_close_their_pre_block():
    f = finding()
    f.fixes[0].snippet = 'ami = "</pre><img src=x onerror=alert(1)>"\n##[error]x'
    f.chain[1].details.append("name_regex = \"</details><b>x</b>\"")
    out = render("markdown", report([f]))
    assert "<img" not in out and "<b>" not in out and "##[" not in out
    assert out.count("<pre>") == out.count("</pre>") == 2
    assert "&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;" in out
    assert out.count("<details>") == out.count("</details>") == 1


def test_markdown_escaping_helpers():
    assert text("a|b") == "a\\|b"
    assert text("<b>&") == "&lt;b&gt;&amp;"
    assert text("`x`") == "\\`x\\`"
    assert "@admin" not in text("hi @admin") and "admin" in text("hi @admin")
    assert "#7" not in text("fixes #7")
    assert "\n" not in text("a\nb") and "\\\\n" in text("a\nb")
    assert code("a`b") == "<code>a\\`b</code>"
    assert code("") == ""


def test_formats_are_deterministic(workdir):
    plan = write_plan(workdir, drift_plan(ISSUE_KEY))
    for fmt in ("markdown", "sarif", "junit", "github", "gitlab"):
        assert run(["check", plan, "--format", fmt])[1] == run(["check", plan, "--format", fmt])[1]


# -- gitlab -------------------------------------------------------------------------------------

def test_gitlab_counts_over_all_plans_and_a_replacement_is_a_create_and_a_delete(workdir):
    a = write_plan(workdir, drift_plan(), "a.json")
    deleting = drift_plan("old", actions=("delete",))
    deleting["resource_changes"].append({
        "address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
        "change": {"actions": ["update"], "before": {}, "after": {}, "after_unknown": {}}})
    deleting["resource_changes"].append({
        "address": "data.aws_ami.al2", "mode": "data", "type": "aws_ami", "name": "al2",
        "change": {"actions": ["read"], "before": None, "after": {}, "after_unknown": {}}})
    b = write_plan(workdir, deleting, "b.json")
    code, out, _ = run(["check", a, b, "--format", "gitlab"])
    assert json.loads(out) == {"create": 1, "update": 1, "delete": 2}
    assert list(json.loads(out)) == ["create", "update", "delete"]


def test_output_writes_several_formats_in_one_run(workdir):
    plan = write_plan(workdir, drift_plan())
    code, _, _ = run(["check", plan, "--output", "sarif=out.sarif", "--output", "junit=out.xml",
                      "--output", "markdown=out.md", "--output", "gitlab=out.gitlab.json",
                      "--output", "github=out.txt"])
    assert code == 1
    assert_valid_sarif(json.loads((workdir / "out.sarif").read_text(encoding="utf-8")))
    assert ET.parse(workdir / "out.xml").getroot().get("failures") == "1"
    assert (workdir / "out.md").read_text(encoding="utf-8").startswith(MARKER)
    assert json.loads((workdir / "out.gitlab.json").read_text()) == {"create": 1, "update": 0, "delete": 1}
    assert (workdir / "out.txt").read_text().startswith("::error file=main.tf,line=8,")


@pytest.mark.parametrize("fmt", ["json", "sarif", "codequality", "junit"])
@pytest.mark.parametrize("shape", ["hostile", "none", "allowed", "two plans"])
def test_reports_written_in_pieces_are_the_rendered_text(shape, fmt):
    """`check` writes these reports one finding at a time (render_bytes): the same bytes as render()."""
    nasty = f'aws_instance.app["{NASTY_KEY} \u2028 \u202e é ##[x]"]'
    many = [finding(address=nasty, message=f"{nasty} ##[error] \x7f"), finding(address="aws_instance.b"),
            finding(severity="warning", address="aws_instance.c", plan="other.json", group="TFG001|g")]
    rep = {"hostile": report(many),
           "none": report([]),
           "allowed": report([], suppressed=many[:2]),
           "two plans": report(many, plans=("plan.json", "other.json"))}[shape]
    formatter = get_formatter(fmt)
    pieces = list(formatter.render_bytes(rep, RenderOptions()))
    assert b"".join(pieces) == render(fmt, rep).encode("utf-8")
    if rep.findings:
        assert len(pieces) > len(rep.findings)  # one piece per finding, not one document
