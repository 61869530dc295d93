"""The report layer: the report model, grouping by root cause in every format, `--compact`, the
Code Quality format, the JSON report's counts, the fix command, and the one sanitiser.

Findings are built by hand (the rules do not set `group` yet): what a user would see when 100
instances are replaced because of one new image.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib import resources

import jsonschema
import pytest
from click.testing import CliRunner
from test_formats import (
    assert_valid_sarif,
    drift_plan,
    parse_annotation,
    runner_commands,
    write_plan,
)

from guard.cli import cli
from guard.findings import ChainLink, Finding, Fix, Location, Severity, ValueChange
from guard.format import FORMATS, RenderOptions, get_formatter
from guard.format.safe import ZWJ, clean, defuse_json, defuse_log, one_line
from guard.report import PlanSummary, Report

ROOT = "data.aws_ami.al2 picked ami-0bbb2222"


def instance(key: str, *, group: str | None = "image:data.aws_ami.al2=ami-0bbb2222", rule: str = "TFG001",
             severity: str = "error", plan: str = "plan.json", old: str = "ami-0aaa1111", line: int = 8,
             root: str | None = ROOT) -> Finding:
    address = f'aws_instance.app["{key}"]'
    loc = Location(file="main.tf", line=line)
    return Finding(
        rule=rule, severity=Severity(severity), address=address, plan=plan,
        title=f"{address} will be replaced because data.aws_ami.al2 picked a new image",
        actions=["delete", "create"], action_reason="replace_because_cannot_update", replace_paths=[["ami"]],
        values=[ValueChange(path="ami", before=old, after="ami-0bbb2222")], location=loc,
        chain=[ChainLink(ref="aws_instance.app.ami", kind="attribute", location=loc, expression="data.aws_ami.al2.id"),
               ChainLink(ref="data.aws_ami.al2", kind="data_source", details=["most_recent = true"],
                         location=Location(file="main.tf", line=1))],
        message=f"{address} will be replaced because `ami` changes from `{old}` to `ami-0bbb2222`.",
        fixes=[Fix(title="Pin the AMI the instance runs now", detail="the image it runs today", snippet=f'ami = "{old}"')],
        cause="image_drift" if group else "", group=group, root=root if group else None)


def report(findings, *, plans=("plan.json",), fail_on="error", **kw) -> Report:
    return Report(findings=list(findings), fail_on=fail_on, **kw,
                  plans=[PlanSummary(label=p, terraform_version="1.11.4", format_version="1.2",
                                     create=len(findings), delete=len(findings), replace=len(findings)) for p in plans])


def render(fmt: str, rep: Report, **options) -> str:
    return get_formatter(fmt).render(rep, RenderOptions(**options))


def hundred() -> list[Finding]:
    return [instance(f"web-{i:03d}") for i in range(100)]


# -- the model ----------------------------------------------------------------------------------

def test_groups_follow_the_group_key_within_one_rule_plan_and_severity():
    findings = [instance("a"), instance("b"), instance("c", group=None),
                instance("d", rule="TFG002"),  # same key, another rule
                instance("e", plan="other.json"),  # same key, another plan
                instance("f", severity="warning")]  # same key, another severity
    groups = report(findings).groups
    assert [g.addresses for g in groups] == [['aws_instance.app["a"]', 'aws_instance.app["b"]'],
                                             ['aws_instance.app["c"]'], ['aws_instance.app["d"]'],
                                             ['aws_instance.app["e"]'], ['aws_instance.app["f"]']]
    assert [g.shared for g in groups] == [True, False, True, True, True]
    assert groups[0].root == ROOT and groups[0].cause == "image_drift"
    assert len({g.id for g in groups}) == 5


def test_group_ids_are_stable_and_do_not_depend_on_the_other_findings():
    one = report(hundred()).groups[0].id
    again = report([instance("x", group=None), *hundred()[:3]]).groups[1].id
    assert one == again
    assert report([instance("a", group="other")]).groups[0].id != one


def test_counts_and_exit_code_are_computed_once_from_the_findings():
    rep = report([instance("a"), instance("b", severity="warning", group=None)], fail_on="warning")
    assert rep.counts == {"error": 1, "warning": 1, "notice": 0}
    assert rep.count("warning") == rep.count(Severity.warning) == 1
    assert len(rep.failing()) == 2 and rep.exit_code == 1
    assert report([instance("b", severity="notice")]).exit_code == 0


def test_analyze_keeps_exporting_the_report_names():
    from guard import analyze

    assert analyze.Report is Report and analyze.PlanSummary is PlanSummary


# -- grouping in every format -------------------------------------------------------------------

def test_text_explains_a_shared_cause_once_and_lists_every_address():
    grouped = render("text", report(hundred()))
    alone = render("text", report([f.model_copy(update={"group": None, "root": None}) for f in hundred()]))
    assert grouped.count("why:") == 1 and grouped.count("fixes:") == 1 and grouped.count("most_recent = true") == 1
    assert alone.count("why:") == 100
    assert len(grouped.splitlines()) < 130
    assert len(alone.splitlines()) > 1000
    lines = grouped.splitlines()
    assert lines[0] == f"error TFG001 100 resources, one cause: {ROOT}"
    assert f"  root:    {ROOT}" in lines and "  affects: 100 resources" in lines
    for i in range(100):
        assert sum(line.strip().startswith(f'aws_instance.app["web-{i:03d}"]  [main.tf:8]') for line in lines) == 1
    # What all share is said once; the summary counts findings and causes.
    assert grouped.count("change:  ami: ami-0aaa1111 -> ami-0bbb2222") == 1
    assert "100 error(s), 0 warning(s), 0 notice(s) (1 cause(s))" in lines[-1]


def test_text_shows_per_address_what_differs_inside_a_group():
    findings = [instance("a"), instance("b", old="ami-0ccc3333")]
    out = render("text", report(findings)).splitlines()
    assert not any(line.startswith("  change:") for line in out)
    assert '    aws_instance.app["a"]  [main.tf:8]  ami: ami-0aaa1111 -> ami-0bbb2222' in out
    assert '    aws_instance.app["b"]  [main.tf:8]  ami: ami-0ccc3333 -> ami-0bbb2222' in out


def test_text_without_groups_renders_a_finding_as_before():
    out = render("text", report([instance("a", group=None)]))
    assert out == (
        'error TFG001 aws_instance.app["a"] will be replaced because data.aws_ami.al2 picked a new image\n'
        "  plan:    plan.json (main.tf:8)\n"
        "  action:  destroy, then create a replacement [replace_because_cannot_update]\n"
        "  change:  ami: ami-0aaa1111 -> ami-0bbb2222\n"
        "  why:\n"
        "       aws_instance.app.ami  [main.tf:8]  data.aws_ami.al2.id\n"
        "    <- data.aws_ami.al2  [main.tf:1]\n"
        "         most_recent = true\n"
        '  aws_instance.app["a"] will be replaced because `ami` changes from `ami-0aaa1111` to `ami-0bbb2222`.\n'
        "  fixes:\n"
        "    1. Pin the AMI the instance runs now\n"
        "       the image it runs today\n"
        '         ami = "ami-0aaa1111"\n'
        "\n"
        "replace-guard FAIL: 1 error(s), 0 warning(s), 0 notice(s) in plan.json; plan replaces 1, "
        "deletes 0 without replacement (fail-on: error)\n")


def test_json_keeps_one_finding_per_address_and_lists_the_groups():
    findings = [*hundred(), instance("solo", group=None)]
    doc = json.loads(render("json", report(findings)))
    schema = json.loads(resources.files("guard").joinpath("schemas/report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["report_version"] == "1.1"
    assert len(doc["findings"]) == 101 and doc["summary"]["causes"] == 2
    (group,) = doc["groups"]
    assert group["rule"] == "TFG001" and group["cause"] == "image_drift" and group["root"] == ROOT
    assert group["key"] == "image:data.aws_ami.al2=ami-0bbb2222" and group["severity"] == "error"
    assert group["addresses"] == [f["address"] for f in doc["findings"][:100]]
    assert group["fingerprints"] == [f["fingerprint"] for f in doc["findings"][:100]]
    assert group["id"] == report(hundred()).groups[0].id


def test_markdown_one_row_and_one_section_per_group():
    out = render("markdown", report([*hundred(), instance("solo", group=None)]))
    rows = [line for line in out.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) == 2
    assert "and 99 more" in rows[0] and "solo" in rows[1]
    assert out.count("<details><summary>") == 2 and out.count("<pre>") == 4  # a chain and a snippet each
    assert "(100 resources)</summary>" in out and "**Affected** (100):" in out
    for i in range(100):
        assert out.count(f"web\\-{i:03d}") >= 1
    assert "from 2 cause(s)" in out.splitlines()[1]


def test_markdown_lists_at_most_a_hundred_addresses_per_group_and_counts_the_rest():
    out = render("markdown", report([instance(f"w{i:03d}") for i in range(150)]))
    section = out[out.index("**Affected** (150):"):]
    listed = [line for line in section.splitlines() if line.startswith("- <code>aws\\_instance")]
    assert len(listed) == 100
    assert "- \u2026 and 50 more (the JSON report lists all)" in out


def test_github_one_annotation_per_group_with_every_address_at_most_ten_per_severity():
    findings = [instance(f"g{g:02d}-{i}", group=f"key-{g:02d}") for g in range(25) for i in range(4)]
    findings.sort(key=Finding.sort_key)
    out = render("github", report(findings))
    lines = out.splitlines()
    annotations = [parse_annotation(line) for line in lines if line.startswith("::")]
    assert len(annotations) == 10 and all(kind == "error" for kind, _, _ in annotations)
    _, props, data = annotations[0]
    assert props["title"] == 'TFG001 ami-drift: aws_instance.app["g00-0"] and 3 more'
    for i in range(4):
        assert f'aws_instance.app["g00-{i}"]  [main.tf:8]' in data
    assert data.count("why:") == 1
    assert "15 annotation(s) for 60 finding(s) left out (15 error(s))" in lines[-1]
    assert "100 error(s)" in lines[-1]


def test_sarif_keeps_one_result_per_address_and_names_the_group():
    rep = report([*hundred()[:3], instance("solo", group=None)])
    doc = json.loads(render("sarif", rep))
    assert_valid_sarif(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 4
    gid = rep.groups[0].id
    for res in results[:3]:
        assert res["properties"]["group"] == {"id": gid, "rule": "TFG001", "cause": "image_drift", "root": ROOT, "size": 3}
        assert f"group {gid}, one cause for 3 resources: {ROOT}" in res["message"]["text"]
    assert "group" not in results[3]["properties"]


def test_junit_keeps_one_testcase_per_address_and_names_the_group():
    rep = report(hundred()[:3])
    root = ET.fromstring(render("junit", rep))
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [f'aws_instance.app["web-{i:03d}"]' for i in range(3)]
    for case in cases:
        assert f"group {rep.groups[0].id}, one cause for 3 resources: {ROOT}" in case.find("failure").text


# -- --compact ----------------------------------------------------------------------------------

COMPACT = re.compile(r"^(?P<path>[^\n]+):(?P<line>\d+): (?P<sev>error|warning|notice) - (?P<rule>TFG\d+) (?P<rest>.+)$")


def test_compact_is_one_line_per_finding_then_the_summary():
    findings = [*hundred()[:3], instance("x", group=None, severity="warning").model_copy(update={"location": None})]
    findings[3].plan = "plans/stack.json"
    out = render("text", report(findings, plans=("plan.json", "plans/stack.json")), compact=True)
    lines = out.splitlines()
    assert len(lines) == 5
    parsed = [COMPACT.match(line) for line in lines[:4]]
    assert all(parsed), lines
    assert parsed[0]["path"] == "main.tf" and parsed[0]["line"] == "8" and parsed[0]["sev"] == "error"
    assert parsed[0]["rest"].startswith('aws_instance.app["web-000"]: aws_instance.app["web-000"] will be replaced')
    # Without a .tf location: the plan file, line 1.
    assert (parsed[3]["path"], parsed[3]["line"], parsed[3]["sev"]) == ("plans/stack.json", "1", "warning")
    assert lines[4].startswith("replace-guard FAIL: 3 error(s), 1 warning(s)")


def test_compact_from_the_cli_and_refused_for_other_formats(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    plan = write_plan(tmp_path, drift_plan("a\n::error::x"))
    result = CliRunner().invoke(cli, ["check", plan, "--compact"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and COMPACT.match(lines[0])
    assert lines[0].startswith('plan.json:1: error - TFG001 aws_instance.app["a\\n::error::x"]: ')
    assert runner_commands(result.stdout) == []
    refused = CliRunner().invoke(cli, ["check", plan, "--compact", "--format", "json"])
    assert refused.exit_code == 2 and "--compact" in refused.stderr and "--format text" in refused.stderr


# -- codequality --------------------------------------------------------------------------------

CODE_QUALITY_SCHEMA = {  # what GitLab's documentation requires of each issue
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {"type": "object", "required": ["path", "lines"],
                         "properties": {"path": {"type": "string", "minLength": 1},
                                        "lines": {"type": "object", "required": ["begin"],
                                                  "properties": {"begin": {"type": "integer", "minimum": 1}}}}},
        },
    },
}


def test_codequality_issues_are_valid_unique_and_on_the_tf_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    findings = [*hundred()[:3],
                instance("a", plan="other.json", group=None),  # the same address in another plan
                instance("w", severity="warning", group=None, line=30),
                instance("n", severity="notice", group=None).model_copy(update={"location": None})]
    findings[5].plan = "plans/n.json"
    allowed = instance("kept", group=None).model_copy(update={"allowed_by": "config: known"})
    rep = report(findings, plans=("plan.json", "other.json"), suppressed=[allowed])
    out = render("codequality", rep)
    issues = json.loads(out)
    jsonschema.Draft202012Validator(CODE_QUALITY_SCHEMA).validate(issues)
    assert len(issues) == 6  # the allowed finding is not an issue
    assert len({i["fingerprint"] for i in issues}) == 6
    assert [i["severity"] for i in issues] == ["critical"] * 4 + ["major", "info"]
    assert issues[0]["location"] == {"path": "main.tf", "lines": {"begin": 8}}
    assert issues[4]["location"] == {"path": "main.tf", "lines": {"begin": 30}}
    assert issues[5]["location"] == {"path": "plans/n.json", "lines": {"begin": 1}}
    assert issues[0]["check_name"] == "replace-guard/TFG001/ami-drift"
    assert "one cause for 3 resources" in issues[0]["description"] and "one cause" not in issues[3]["description"]
    # Stable across runs, and a finding keeps its fingerprint when the others change.
    assert render("codequality", rep) == out
    alone = json.loads(render("codequality", report([findings[4]])))
    assert alone[0]["fingerprint"] == issues[4]["fingerprint"]


def test_codequality_paths_are_relative_to_the_gitlab_project(tmp_path, monkeypatch):
    (tmp_path / "infra").mkdir()
    monkeypatch.chdir(tmp_path / "infra")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path))
    issues = json.loads(render("codequality", report([instance("a")])))
    assert issues[0]["location"]["path"] == "infra/main.tf"


def test_codequality_from_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    plan = write_plan(tmp_path, drift_plan())
    result = CliRunner().invoke(cli, ["check", plan, "--output", "codequality=cq.json", "--format", "codequality"])
    assert result.exit_code == 1
    issues = json.loads((tmp_path / "cq.json").read_text(encoding="utf-8"))
    assert issues == json.loads(result.stdout)
    assert [i["check_name"] for i in issues] == ["replace-guard/TFG001/ami-drift"]
    assert issues[0]["location"] == {"path": "plan.json", "lines": {"begin": 1}}


# -- JSON counts, fix command -------------------------------------------------------------------

def test_json_names_what_the_plan_deletes_unmistakably(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = drift_plan("a")
    gone = json.loads(json.dumps(plan["resource_changes"][0]))
    gone.update(address="aws_instance.old", index=None)
    gone["change"]["actions"] = ["delete"]
    plan["resource_changes"].append(gone)
    doc = json.loads(CliRunner().invoke(cli, ["check", write_plan(tmp_path, plan), "--format", "json"]).stdout)
    summary, counted = doc["summary"], doc["plans"][0]
    assert (summary["replaced"], summary["deleted_without_replacement"], summary["destroyed"]) == (1, 1, 2)
    assert summary["deleted"] == summary["deleted_without_replacement"]  # the deprecated name, kept for 1.0 readers
    assert (counted["replace"], counted["delete"], counted["deleted_without_replacement"]) == (1, 2, 1)
    schema = json.loads(resources.files("guard").joinpath("schemas/report.schema.json").read_text(encoding="utf-8"))
    props = schema["$defs"]["Summary"]["properties"]
    assert props["deleted"]["deprecated"] is True and "deleted_without_replacement" in props["deleted"]["description"]
    assert "replacements included" in schema["$defs"]["PlanInfo"]["properties"]["delete"]["description"]


def test_fix_command_closes_text_and_markdown_and_is_in_json():
    rep = report([instance("a")], fix_command="replace-guard fix plan.json -C infra")
    text = render("text", rep).splitlines()
    assert text[-1] == "fix: replace-guard fix plan.json -C infra  (the edits as a diff; --write makes them)"
    assert render("text", rep, compact=True).splitlines()[-1] == text[-1]
    md = render("markdown", rep)
    assert "**Fix:** <code>replace\\-guard fix plan\\.json \\-C infra</code>" in md
    assert json.loads(render("json", rep))["fix_command"] == "replace-guard fix plan.json -C infra"
    without = report([instance("a")])
    assert "fix:" not in render("text", without) and "**Fix:**" not in render("markdown", without)
    assert json.loads(render("json", without))["fix_command"] is None


# -- the sanitiser ------------------------------------------------------------------------------

def test_clean_shows_controls_as_escapes_and_keeps_lines_from_being_commands():
    assert clean("a\x1b[31mb\x07\r\x00") == "a\\x1b[31mb\\x07\\x0d\\x00"
    assert clean("x\u202eevil\u2028y\u0085") == "x\\u202eevil\\u2028y\\x85"
    assert clean("ok\n  ::error::x\n\u00a0::warning::y") == f"ok\n  :{ZWJ}:error::x\n\u00a0:{ZWJ}:warning::y"
    assert clean("a ##[group]b") == f"a #{ZWJ}#[group]b"
    assert one_line("a\n::add-mask::b") == "a\\n::add-mask::b"
    assert clean("plain text: a::b") == "plain text: a::b"
    assert clean(clean("\x1b ##[x]\n::y")) == clean("\x1b ##[x]\n::y")  # idempotent


def test_defusing_a_document_keeps_what_a_reader_reads():
    assert defuse_log("<a>##[x]\n  ::error::y</a>", "#&#35;[", "&#58;") == "<a>#&#35;[x]\n  &#58;:error::y</a>"
    doc = json.dumps({"k": "##[x] \u2028 \u202e \x85"}, ensure_ascii=False)
    safe = defuse_json(doc)
    assert json.loads(safe) == json.loads(doc)
    assert "##[" not in safe and "\u2028" not in safe and "\u202e" not in safe and "\x85" not in safe


# -- plan text in every field, every format -----------------------------------------------------

EVIL = ("\n::add-mask::s3cr3t\r::warning::cr \x1b]0;pwned\x07\x1b[2J ##[error]old \u202eevil\u2028::error::ls"
        "\n\u00a0::notice::nbsp <img src=x onerror=alert(1)> @org/team #12 https://1249763277/login "
        "www.example.com foo@example.com")
RAW = ("\x1b", "\x07", "\r", "\u202e", "\u2028", "\x00")


def evil(tag: str) -> str:
    return f"{tag}{EVIL}"


def hostile_finding(n: int, group: str | None) -> Finding:
    loc = Location(file=evil("file.tf"), line=3)
    return Finding(
        rule="TFG001", severity=Severity.error, title=evil("title"), address=f'aws_instance.app["{n}{EVIL}"]',
        plan=evil("plan.json"), actions=["delete", evil("frobnicate")], action_reason=evil("reason"),
        replace_paths=[["ami"]], values=[ValueChange(path=evil("path"), before=evil("before"), after=evil("after"))],
        chain=[ChainLink(ref=evil("ref"), kind="attribute", module=evil("module"), expression=evil("expr"),
                         details=[evil("detail")], location=loc, note=evil("note"))],
        facts={evil("fact_key"): evil("fact")}, message=evil("message"), location=loc,
        fixes=[Fix(title=evil("fix"), detail=evil("detail"), location=loc, snippet=evil("snippet"))],
        cause="image_drift", group=group, root=evil("root") if group else None)


def hostile_report() -> Report:
    findings = [hostile_finding(i, evil("key")) for i in range(3)] + [hostile_finding(9, None)]
    allowed = hostile_finding(7, None).model_copy(update={"allowed_by": evil("allowed")})
    plan = PlanSummary(label=evil("plan.json"), terraform_version=evil("1.11"), format_version="1.2", create=1)
    return Report(findings=findings, plans=[plan], suppressed=[allowed], notes=[evil("note")],
                  fix_command=evil("replace-guard fix"))


@pytest.mark.parametrize("fmt", [*sorted(FORMATS), "compact"])
def test_plan_text_in_every_field_injects_nothing(fmt, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    rep = hostile_report()
    out = render("text", rep, compact=True) if fmt == "compact" else render(fmt, rep)
    commands = runner_commands(out)
    if fmt == "github":
        # Only the guard's own annotations, one per group, each one line.
        assert len(commands) == 2 and all(parse_annotation(c)[0] == "error" for c in commands)
    else:
        assert commands == [], commands
    for ch in RAW:
        assert ch not in out, (fmt, repr(ch))
    if fmt in ("json", "sarif", "codequality", "gitlab"):
        doc = json.loads(out)
        if fmt == "json":  # data keeps its exact value
            assert doc["findings"][0]["action_reason"] == evil("reason")
            assert doc["groups"][0]["root"] == evil("root") and doc["notes"] == [evil("note")]
        if fmt == "sarif":
            assert_valid_sarif(doc)
    if fmt == "junit":
        ET.fromstring(out)
    if fmt == "markdown":
        assert_renders_as_data_on_github(out)
        assert "@org" not in out.replace("<pre>", "\0<pre>").split("\0")[0]  # the header and the table


# What GitHub makes of the markdown: its own parser (cmark-gfm, with the autolink extension), then
# links, mentions and references in text, except inside <pre>, <code> and <a>.
GITHUB_TAGS = {"p", "code", "pre", "details", "summary", "table", "thead", "tbody", "tr", "th", "td", "strong",
               "em", "ul", "ol", "li", "h2"}


def assert_renders_as_data_on_github(markdown: str) -> None:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    tags = set(re.findall(r"<([A-Za-z][A-Za-z0-9]*)", html))
    assert tags <= GITHUB_TAGS, tags - GITHUB_TAGS  # no link (<a>), no <img>, no HTML from the plan
    text = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", " ", html, flags=re.DOTALL)
    for pattern in (r"@[0-9A-Za-z_-]", r"#\d", r"\bGH-\d", r"\b[0-9a-f]{7,40}\b", r":[a-z0-9_+-]+:"):
        assert not re.search(pattern, text), (pattern, re.search(pattern, text))


@pytest.mark.parametrize("value", ["https://1249763277/login", "www.example.com", "foo@example.com",
                                   "see http://a.example/x?y=1 now", "HTTPS://A.EXAMPLE", "ftp://files.example/x",
                                   "@org/team", "@admin", "fixes #12", "GH-12", "commit 3f2a9c1b", ":rocket:",
                                   "registry.example/app:3f2a9c1d5e", "<img src=x onerror=alert(1)>",
                                   "[click](https://evil.example)", "![x](https://evil.example/i.png)",
                                   "<https://evil.example>", "&lt;b&gt;"])
def test_markdown_never_turns_plan_text_into_a_link_a_mention_or_html(value):
    f = instance(f"k {value}", group="g").model_copy(update={
        "values": [ValueChange(path="ami", before=value, after=f"img {value}")],
        "facts": {"image_name": value}, "message": f"`{value}` {value} and {value}",
        "root": f"data.aws_ami.x picked {value}"})
    loose = instance(f"{value}", group=None).model_copy(update={"action_reason": value, "plan": value})
    allowed = instance("kept", group=None).model_copy(update={"allowed_by": f"config: {value}"})
    rep = report([f, f.model_copy(update={"address": "aws_instance.b"}), loose], suppressed=[allowed],
                 notes=[f"note {value}"], fix_command=f"replace-guard fix {value}")
    rep.plans[0].label = value
    rep.plans[0].terraform_version = value
    assert_renders_as_data_on_github(render("markdown", rep))


def test_markdown_counts_every_note_and_the_allowed_list_against_the_comment_limit():
    from guard.format.markdown import BUDGET, size

    notes = [f".replace-guard.toml: allow entry for aws_instance.n{i}[\"{'x' * 1600}\"] expired on 2024-01-01; "
             "it no longer applies" for i in range(100)]
    out = render("markdown", report([instance("a")], notes=notes))
    assert size(out) <= BUDGET and len(out) <= BUDGET
    shown = sum(line.startswith("- \\.replace\\-guard\\.toml") for line in out.splitlines())
    assert 30 < shown < 100
    assert f"- \u2026 and {100 - shown} more note(s) (the JSON report lists all)" in out
    assert "<details><summary>" in out  # the finding still has its section
    # All at once: many findings, allowed findings, notes and plans.
    many = [instance(f"{'y' * 250}{i}", group=None) for i in range(600)]
    allowed = [f.model_copy(update={"allowed_by": "config: " + "z" * 900}) for f in many[:300]]
    rep = report(many, suppressed=allowed, notes=notes, plans=[f"stack-{i:04d}/{'p' * 200}.json" for i in range(500)])
    out = render("markdown", rep)
    assert size(out) <= BUDGET
    assert "more note(s)" in out and "and 299 more" not in out and "more (the JSON report lists all)" in out
    assert re.search(r"\d+ finding\(s\) left out of the table", out)
