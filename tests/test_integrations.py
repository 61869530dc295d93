"""CI integrations: the GitHub Action (action.yml), the example CI configs, the pre-commit hook,
setup-terraform's wrapper output, and binary plan files."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from guard.cli import cli

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "ci"
MARKER = "<!-- replace-guard-report -->"
BASH = shutil.which("bash")

MAIN_TF = """data "aws_ami" "al2" {
  most_recent = true
  owners      = ["amazon"]
}

resource "aws_instance" "app" {
  ami           = data.aws_ami.al2.id
  instance_type = "t3.micro"
}
"""


def drift_plan(actions=("delete", "create")) -> dict:
    """aws_instance.app replaced because data.aws_ami (most_recent = true) picked a new image."""
    return {
        "format_version": "1.2", "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": [{
            "address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": list(actions), "before": {"ami": "ami-0aaa1111"}, "after": {"ami": "ami-0bbb2222"},
                       "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {},
                       "replace_paths": [["ami"]]},
            "action_reason": "replace_because_cannot_update"}],
        "configuration": {"provider_config": {"aws": {"name": "aws"}}, "root_module": {"resources": [
            {"address": "data.aws_ami.al2", "mode": "data", "type": "aws_ami", "name": "al2",
             "provider_config_key": "aws",
             "expressions": {"most_recent": {"constant_value": True}, "owners": {"constant_value": ["amazon"]}}},
            {"address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
             "provider_config_key": "aws",
             "expressions": {"ami": {"references": ["data.aws_ami.al2.id", "data.aws_ami.al2"]}}},
        ]}},
    }


def load_yaml(path: Path):
    assert path.is_file(), f"{path} is missing"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# -- action.yml ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def action() -> dict:
    return load_yaml(REPO / "action.yml")


def steps_by_id(action: dict) -> dict[str, dict]:
    return {step.get("id", step.get("name")): step for step in action["runs"]["steps"]}


def test_action_is_composite_with_the_inputs_and_outputs_it_promises(action):
    assert action["runs"]["using"] == "composite"
    assert action["name"] and action["description"]
    assert {"plan", "working-directory", "fail-on", "config", "sarif", "comment"} <= set(action["inputs"])
    assert action["inputs"]["plan"]["required"] is True
    assert {"errors", "warnings", "replaced", "deleted", "exit-code"} <= set(action["outputs"])
    for name, out in action["outputs"].items():
        assert out["value"].startswith("${{ steps.guard.outputs."), name


def test_action_scripts_take_inputs_only_through_env(action):
    runs = [step for step in action["runs"]["steps"] if "run" in step]
    assert len(runs) >= 3
    for step in runs:
        assert "${{" not in step["run"], f"expression pasted into the script of {step.get('name')}"
        assert step["shell"] == "bash"
        for value in step.get("env", {}).values():
            assert isinstance(value, str)
    uses_inputs = " ".join(str(step.get("env", {})) for step in runs)
    for name in ("plan", "working-directory", "fail-on", "config", "sarif"):
        assert "${{ inputs." + name + " }}" in uses_inputs


def test_action_installs_into_its_own_venv_from_its_own_folder(action):
    install = steps_by_id(action)["install"]
    assert install["env"]["RG_ACTION_PATH"] == "${{ github.action_path }}"
    script = install["run"]
    assert "-m venv" in script and '"$RG_ACTION_PATH"' in script and "pip install" in script
    assert "pip install" not in steps_by_id(action)["guard"]["run"]


def test_action_comment_step_runs_even_after_a_failed_check(action):
    comment = next(s for s in action["runs"]["steps"] if "comment" in s.get("name", "").lower())
    assert comment["if"].startswith("!cancelled()")
    for off in ("never", "false"):
        assert f"inputs.comment != '{off}'" in comment["if"]
    assert comment["env"]["GH_TOKEN"] == "${{ inputs.github-token }}"
    assert comment["env"]["RG_EXIT"] == "${{ steps.guard.outputs.exit-code }}"


def _run_step(step: dict, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a composite step's script the way the runner does (`bash -e -o pipefail`)."""
    script = cwd / f"step-{step.get('id', 'x')}.sh"
    script.write_text(step["run"], encoding="utf-8")
    return subprocess.run([BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)


@pytest.fixture
def runner_env(tmp_path):
    """A fake GitHub runner: workspace with infra/ (main.tf, plan.json), output files, temp dir."""
    workspace = tmp_path / "workspace"
    infra = workspace / "infra"
    infra.mkdir(parents=True)
    (infra / "main.tf").write_text(MAIN_TF, encoding="utf-8")
    (infra / "plan.json").write_text(json.dumps(drift_plan()), encoding="utf-8")
    temp = tmp_path / "runner-temp"
    (temp / "rg").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RG_", "RUNNER_"))}
    env.update({
        "GITHUB_WORKSPACE": str(workspace), "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "RUNNER_TEMP": str(temp),
        "GITHUB_REPOSITORY": "octo/infra",
        "RG_ACTION_PATH": str(REPO), "RG_PYTHON": sys.executable,
        "RG_PY": sys.executable, "RG_DIR": str(temp / "rg"), "RG_PLAN": "plan.json",
        "RG_WORKDIR": "infra", "RG_FAIL_ON": "", "RG_CONFIG": "", "RG_SARIF": "reports/guard.sarif",
    })
    for name in ("output", "summary.md"):
        (tmp_path / name).write_text("", encoding="utf-8")
    return env, workspace, tmp_path


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_check_step_fails_the_job_and_still_writes_summary_outputs_and_sarif(action, runner_env):
    env, workspace, tmp = runner_env
    proc = _run_step(steps_by_id(action)["guard"], env, workspace)
    assert proc.returncode == 1, proc.stderr
    out = _outputs(tmp / "output")
    assert out["exit-code"] == "1"
    assert (out["errors"], out["warnings"], out["replaced"], out["deleted"]) == ("1", "0", "1", "0")
    assert Path(out["json"]).is_file() and Path(out["markdown"]).is_file()
    summary = (tmp / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith(MARKER) and "TFG001" in summary
    # Annotations name the file relative to the repository, not to working-directory.
    assert "::error file=infra/main.tf,line=7,title=TFG001" in proc.stdout
    assert "error TFG001" in proc.stdout  # the text report for people reading the log
    sarif = json.loads((workspace / "reports" / "guard.sarif").read_text(encoding="utf-8"))
    loc = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "infra/main.tf"


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_check_step_honours_fail_on_never(action, runner_env):
    env, workspace, tmp = runner_env
    env.update({"RG_FAIL_ON": "never", "RG_SARIF": ""})
    proc = _run_step(steps_by_id(action)["guard"], env, workspace)
    assert proc.returncode == 0, proc.stderr
    out = _outputs(tmp / "output")
    assert out["exit-code"] == "0" and out["errors"] == "1"
    assert not (workspace / "reports").exists()


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_check_step_on_bad_input_exits_2_and_says_so_in_the_summary(action, runner_env):
    env, workspace, tmp = runner_env
    (workspace / "infra" / "plan.json").write_text("not json", encoding="utf-8")
    proc = _run_step(steps_by_id(action)["guard"], env, workspace)
    assert proc.returncode == 2
    assert _outputs(tmp / "output")["exit-code"] == "2"
    assert "could not check the plan" in (tmp / "summary.md").read_text(encoding="utf-8")
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_check_step_never_runs_an_input_as_shell(action, runner_env):
    env, workspace, tmp = runner_env
    env["RG_PLAN"] = 'plan.json"; touch pwned; echo "'
    env["RG_SARIF"] = "$(touch pwned2).sarif"
    proc = _run_step(steps_by_id(action)["guard"], env, workspace)
    assert proc.returncode == 2  # no such plan file
    assert not list(workspace.rglob("pwned*"))


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_check_step_says_why_the_check_could_not_run(action, runner_env):
    env, workspace, tmp = runner_env
    env["RG_PLAN"] = "missing-plan.json"
    proc = _run_step(steps_by_id(action)["guard"], env, workspace)
    assert proc.returncode == 2
    summary = (tmp / "summary.md").read_text(encoding="utf-8")
    assert "could not check the plan" in summary and "missing-plan.json" in summary


# -- the action's Python never imports from the checked-out repository ---------------------------

HOSTILE = """import os, pathlib
pathlib.Path(os.environ["PWNED_DIR"], "pwned-" + __name__).write_text(os.environ.get("GH_TOKEN", "no token"))
raise SystemExit(0)
"""
# Modules the action's scripts import (or that a `python -m` runs), planted by a pull request.
HOSTILE_MODULES = ("guard", "json", "os_helpers", "hashlib", "html", "subprocess", "tempfile", "shutil",
                   "platform", "posixpath", "click", "pydantic", "msgspec", "jsonschema", "venv", "pip")


def _plant(*folders: Path) -> None:
    for folder in folders:
        for name in HOSTILE_MODULES:
            (folder / f"{name}.py").write_text(HOSTILE, encoding="utf-8")


def test_every_python_in_the_action_runs_isolated(action):
    """-I keeps the current folder (the pull request's files) off sys.path."""
    calls = 0
    for step in action["runs"]["steps"]:
        script = step.get("run", "")
        for m in re.finditer(r'"\$\{?(?:RG_PY|RG_PYTHON|py)\b[^"]*"\s+(\S+)', script):
            if m.group(1) in ("]", "&&"):  # a test such as [ -x "$py" ]
                continue
            calls += 1
            assert m.group(1) == "-I", f"{step.get('name')}: {script[m.start():m.end() + 20]!r}"
        assert not re.search(r"(^|[\s;(|&])python3?(\.\d+)?\s+-", script), f"a bare python in {step.get('name')}"
    assert calls >= 6


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_ignores_modules_planted_in_the_repository(action, runner_env):
    env, workspace, tmp = runner_env
    pwned = tmp / "pwned"
    pwned.mkdir()
    _plant(workspace, workspace / "infra")
    env.update({"PWNED_DIR": str(pwned), "GH_TOKEN": "secret-token"})
    steps = steps_by_id(action)
    proc = _run_step(steps["prepare"], env, workspace)
    assert proc.returncode == 0, proc.stderr
    assert _outputs(tmp / "output")["key"].startswith("replace-guard-venv-")
    proc = _run_step(steps["guard"], env, workspace)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the real guard ran and found the drift
    assert "error TFG001" in proc.stdout
    assert _outputs(tmp / "output")["errors"] == "1"
    env.update(_fake_gh(tmp, {"viewer": "github-actions[bot]"}))
    env.update({"GITHUB_EVENT_PATH": str(_pr_event(tmp)), "RG_COMMENT": "always", "RG_KEY": "infra",
                "RG_EXIT": "1"})
    proc = _run_step(_comment_step(action), env, workspace)
    assert proc.returncode == 0, proc.stderr
    assert [w["method"] for w in _writes(tmp)] == ["POST"]
    assert list(pwned.iterdir()) == []


# -- the pull-request comment ----------------------------------------------------------------------

FAKE_GH = """#!{python}
import json, os, shutil, subprocess, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
state = json.load(open(os.environ["GH_STATE"], encoding="utf-8"))
if args[:2] == ["api", "graphql"]:
    if state.get("viewer"):
        print(state["viewer"])
        sys.exit(0)
    sys.exit("HTTP 403: Resource not accessible by integration")
if args[:2] == ["api", "user"]:
    if state.get("user"):
        print(state["user"])
        sys.exit(0)
    sys.exit("HTTP 403: Resource not accessible by integration")
if "--paginate" in args:
    page = json.dumps([{{"id": c["id"], "user": {{"login": c["login"]}}, "body": c["body"]}}
                       for c in state.get("comments", [])])
    jq = args[args.index("--jq") + 1]
    # gh --jq prints strings raw, as jq -r does; run the action's own filter where jq is installed.
    if shutil.which("jq"):
        sys.stdout.write(subprocess.run(["jq", "-r", jq], input=page, capture_output=True, text=True,
                                        check=True).stdout)
    else:
        for c in json.loads(page):
            print(json.dumps({{"id": c["id"], "login": c["user"]["login"], "head": c["body"][:400]}}))
    sys.exit(0)
if "--method" in args:
    i = args.index("--method")
    body = next(a for a in args if a.startswith("body=@"))[len("body=@"):]
    with open(os.environ["GH_WRITES"], "a", encoding="utf-8") as out:
        out.write(json.dumps({{"method": args[i + 1], "path": args[i + 2], "host": os.environ.get("GH_HOST"),
                              "body": open(body, encoding="utf-8").read()}}) + "\\n")
    sys.exit(1 if state.get("fail_writes") else 0)
sys.exit("unexpected gh call")
"""


def _fake_gh(tmp: Path, state: dict) -> dict[str, str]:
    bindir = tmp / "bin"
    bindir.mkdir(exist_ok=True)
    gh = bindir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable), encoding="utf-8")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    (tmp / "gh-state.json").write_text(json.dumps(state), encoding="utf-8")
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "GH_LOG": str(tmp / "gh.log"),
            "GH_WRITES": str(tmp / "gh-writes.jsonl"), "GH_STATE": str(tmp / "gh-state.json")}


def _writes(tmp: Path) -> list[dict]:
    path = tmp / "gh-writes.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _pr_event(tmp: Path, number: int = 7) -> Path:
    event = tmp / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number}}), encoding="utf-8")
    return event


def _comment_step(action: dict) -> dict:
    return next(s for s in action["runs"]["steps"] if "comment" in s.get("name", "").lower())


def scoped(key: str) -> str:
    return f"<!-- replace-guard-report: {key} -->"


BOT = "github-actions[bot]"


@pytest.fixture
def comment_env(runner_env):
    """A finished check (exit 1, one error) in RG_DIR, a pull-request event, and a fake gh."""
    env, workspace, tmp = runner_env
    rg = Path(env["RG_DIR"])
    (rg / "report.md").write_text(MARKER + "\n## replace-guard fails: 1 error(s)\n", encoding="utf-8")
    (rg / "report.json").write_text(json.dumps({"summary": {"errors": 1, "warnings": 0, "notices": 0}}),
                                    encoding="utf-8")
    env.update({"GITHUB_EVENT_PATH": str(_pr_event(tmp)), "GH_TOKEN": "t", "RG_DEFAULT_TOKEN": "t",
                "RG_COMMENT": "always", "RG_KEY": "infra", "RG_EXIT": "1", "GITHUB_RUN_ID": "99",
                "GITHUB_SERVER_URL": "https://github.com"})

    def run(state: dict, **overrides: str):
        env.update(_fake_gh(tmp, state))
        env.update(overrides)
        proc = _run_step(_comment_step(env_action()), env, workspace)
        return proc, _writes(tmp)

    return run


def env_action() -> dict:
    return load_yaml(REPO / "action.yml")


def _comment(cid: int, login: str, body: str) -> dict:
    return {"id": cid, "login": login, "body": body}


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_comment_is_added_with_a_marker_scoped_to_the_working_directory(comment_env):
    proc, writes = comment_env({"viewer": BOT, "comments": []})
    assert proc.returncode == 0, proc.stderr
    assert [(w["method"], w["path"]) for w in writes] == [("POST", "repos/octo/infra/issues/7/comments")]
    assert writes[0]["body"].startswith(scoped("infra") + "\n" + MARKER)
    assert "replace-guard fails" in writes[0]["body"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_comment_updates_only_the_tokens_own_comment_not_a_planted_one(comment_env):
    planted = _comment(1, "mallory", scoped("infra") + "\nplanted by someone who can comment")
    ours = _comment(2, BOT, scoped("infra") + "\n" + MARKER + "\nold report")
    proc, writes = comment_env({"viewer": BOT, "comments": [planted, ours]})
    assert proc.returncode == 0, proc.stderr
    assert [(w["method"], w["path"]) for w in writes] == [("PATCH", "repos/octo/infra/issues/comments/2")]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_a_planted_marker_alone_gets_a_new_comment(comment_env):
    planted = _comment(1, "mallory", scoped("infra") + "\n" + MARKER)
    proc, writes = comment_env({"viewer": BOT, "comments": [planted]})
    assert proc.returncode == 0, proc.stderr
    assert [w["method"] for w in writes] == ["POST"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_two_stacks_keep_their_own_comments(comment_env):
    other = _comment(5, BOT, scoped("infra/staging") + "\n" + MARKER)
    legacy = _comment(6, BOT, MARKER + "\nfrom an older version")
    proc, writes = comment_env({"viewer": BOT, "comments": [other, legacy]}, RG_KEY="./infra/prod/")
    assert [w["method"] for w in writes] == ["POST"]
    assert writes[0]["body"].startswith(scoped("infra/prod") + "\n")
    proc, writes = comment_env({"viewer": BOT, "comments": [other]}, RG_KEY="infra/staging")
    assert proc.returncode == 0, proc.stderr
    assert writes[-1]["path"].endswith("/comments/5") and writes[-1]["method"] == "PATCH"


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_a_key_cannot_close_the_html_comment(comment_env):
    proc, writes = comment_env({"viewer": BOT}, RG_KEY="x --> <img src=x onerror=alert(1)>")
    assert proc.returncode == 0, proc.stderr
    first = writes[0]["body"].split("\n", 1)[0]
    assert first.startswith("<!-- replace-guard-report: ") and first.endswith(" -->")
    assert first.count("-->") == 1 and "<img" not in first


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize("state, default_token, expected", [
    ({"viewer": "octocat"}, "other", "octocat"),      # a personal token: GraphQL viewer
    ({"user": "octocat"}, "other", "octocat"),        # ... or REST /user
    ({}, "t", BOT),                                   # the default token, when both say 403
])
def test_comment_author_is_the_tokens_identity(comment_env, state, default_token, expected):
    comments = [_comment(1, "mallory", scoped("infra")), _comment(3, expected, scoped("infra"))]
    proc, writes = comment_env({**state, "comments": comments}, RG_DEFAULT_TOKEN=default_token)
    assert proc.returncode == 0, proc.stderr
    assert [(w["method"], w["path"]) for w in writes] == [("PATCH", "repos/octo/infra/issues/comments/3")]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_unknown_identity_never_edits_a_comment(comment_env):
    comments = [_comment(1, BOT, scoped("infra")), _comment(2, "mallory", scoped("infra"))]
    proc, writes = comment_env({"comments": comments}, RG_DEFAULT_TOKEN="not-the-same-token")
    assert [w["method"] for w in writes] == ["POST"]
    assert "cannot tell which login" in proc.stdout


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_a_check_that_could_not_run_replaces_the_stale_comment(comment_env, runner_env):
    env, _, _ = runner_env
    rg = Path(env["RG_DIR"])
    for name in ("report.md", "report.json"):
        (rg / name).unlink()
    (rg / "stderr.txt").write_text("replace-guard: error: plan.json: not JSON <b>@team</b>\n  fix: run "
                                   "terraform show -json\n", encoding="utf-8")
    stale = _comment(4, BOT, scoped("infra") + "\n" + MARKER + "\n## replace-guard passes")
    proc, writes = comment_env({"viewer": BOT, "comments": [stale]}, RG_EXIT="2", RG_COMMENT="on-findings")
    assert proc.returncode == 0, proc.stderr
    assert [(w["method"], w["path"]) for w in writes] == [("PATCH", "repos/octo/infra/issues/comments/4")]
    body = writes[0]["body"]
    assert "could not check the plan" in body and "not JSON" in body and "terraform show -json" in body
    assert "<b>" not in body and "&lt;b&gt;" in body  # the message is data
    assert "https://github.com/octo/infra/actions/runs/99" in body


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_a_guard_that_never_ran_says_so(comment_env):
    stale = _comment(4, BOT, scoped("infra") + "\n## replace-guard passes")
    proc, writes = comment_env({"viewer": BOT, "comments": [stale]}, RG_EXIT="", RG_DIR="", RG_PY="")
    assert proc.returncode == 0, proc.stderr
    assert writes[0]["method"] == "PATCH" and "did not run to the end" in writes[0]["body"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_on_findings_comments_only_with_findings_but_never_leaves_a_stale_one(comment_env, runner_env):
    proc, writes = comment_env({"viewer": BOT}, RG_COMMENT="on-findings")
    assert [w["method"] for w in writes] == ["POST"]  # one error: comment
    env, _, tmp = runner_env
    rg = Path(env["RG_DIR"])
    (rg / "report.md").write_text(MARKER + "\n## replace-guard: no resource is destroyed or replaced unasked\n",
                                  encoding="utf-8")
    (rg / "report.json").write_text(json.dumps({"summary": {"errors": 0, "warnings": 0, "notices": 0}}),
                                    encoding="utf-8")
    (tmp / "gh-writes.jsonl").unlink()
    proc, writes = comment_env({"viewer": BOT}, RG_COMMENT="on-findings", RG_EXIT="0")
    assert writes == [] and "no findings; no comment" in proc.stdout
    earlier = _comment(8, BOT, scoped("infra") + "\n" + MARKER + "\n## replace-guard fails")
    proc, writes = comment_env({"viewer": BOT, "comments": [earlier]}, RG_COMMENT="on-findings", RG_EXIT="0")
    assert [(w["method"], w["path"]) for w in writes] == [("PATCH", "repos/octo/infra/issues/comments/8")]
    assert "no resource is destroyed or replaced unasked" in writes[0]["body"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize("value, posts", [("true", True), ("ALWAYS", True), ("false", False), ("never", False)])
def test_comment_input_accepts_true_and_false(comment_env, value, posts):
    proc, writes = comment_env({"viewer": BOT}, RG_COMMENT=value)
    assert proc.returncode == 0 and bool(writes) is posts


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_a_bad_comment_input_fails_the_step(comment_env):
    proc, writes = comment_env({"viewer": BOT}, RG_COMMENT="sometimes")
    assert proc.returncode == 2 and "always, on-findings or never" in proc.stdout and writes == []


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_comment_does_nothing_outside_a_pull_request(comment_env, runner_env):
    _, _, tmp = runner_env
    event = tmp / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    proc, writes = comment_env({"viewer": BOT}, GITHUB_EVENT_PATH=str(event))
    assert proc.returncode == 0 and "not a pull-request event" in proc.stdout
    assert not (tmp / "gh.log").exists() and writes == []


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_comment_on_github_enterprise_server_goes_to_its_host(comment_env):
    proc, writes = comment_env({"viewer": BOT}, GITHUB_SERVER_URL="https://ghe.example.com")
    assert proc.returncode == 0, proc.stderr
    assert writes[0]["host"] == "ghe.example.com"
    _, writes = comment_env({"viewer": BOT}, GITHUB_SERVER_URL="https://github.com")
    assert writes[-1]["host"] is None


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_a_comment_that_cannot_be_written_is_a_warning(comment_env):
    proc, _ = comment_env({"viewer": BOT, "fail_writes": True})
    assert proc.returncode == 0 and "::warning" in proc.stdout and "pull-requests: write" in proc.stdout


# -- pinned dependencies and the cache -------------------------------------------------------------

REQUIREMENTS = REPO / "requirements" / "action.txt"


def _pins(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from a pip-compile --generate-hashes file."""
    text = re.sub(r"\\\n", " ", text)
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"([A-Za-z0-9._-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})*)\s*$", line)
        assert m, f"not a hash-pinned requirement: {line!r}"
        name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
        pins[name] = (m.group(2), re.findall(r"sha256:([0-9a-f]{64})", m.group(3)))
    return pins


def test_every_runtime_dependency_is_pinned_with_hashes():
    from packaging.requirements import Requirement

    pins = _pins(REQUIREMENTS.read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [Requirement(r) for r in project["project"]["dependencies"]]
    wanted += [Requirement(r) for r in project["build-system"]["requires"]]  # --no-build-isolation
    assert wanted
    for req in wanted:
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{req.name} is not in {REQUIREMENTS.name}: run pip-compile (see its header)"
        version, hashes = pins[name]
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} does not satisfy {req}"
        assert hashes, f"{req.name} has no hash"
    for name, (_, hashes) in pins.items():
        assert hashes, f"{name} has no hash"


def test_action_installs_only_hash_pinned_dependencies_then_itself_without_deps(action):
    script = steps_by_id(action)["install"]["run"]
    assert "--require-hashes" in script and '-r "$RG_ACTION_PATH/requirements/action.txt"' in script
    own = next(line for line in script.splitlines() if line.rstrip().endswith('"$RG_ACTION_PATH"'))
    assert "--no-deps" in own and "--no-build-isolation" in own
    assert script.count("pip install") == 2


def test_action_caches_the_virtualenv_by_the_requirements_hash(action, tmp_path):
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    for step in (restore, save):
        assert re.fullmatch(r"actions/cache/(restore|save)@[0-9a-f]{40}", step["uses"])  # pinned by commit
        assert step["with"]["key"] == "${{ steps.prepare.outputs.key }}"
        assert step["with"]["path"] == "${{ steps.prepare.outputs.venv }}"
    assert uses.index(restore["uses"]) < [s.get("id") for s in steps].index("install") < uses.index(save["uses"])
    assert "cache-hit" in save["if"]
    # The key changes with the requirements file.
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("click==8.1.0 --hash=sha256:" + "0" * 64 + "\n", encoding="utf-8")
    b.write_text("click==8.1.1 --hash=sha256:" + "0" * 64 + "\n", encoding="utf-8")
    keys = [subprocess.run([sys.executable, "-I", str(REPO / "action" / "steps.py"), "cache-key", str(p), "/v"],
                           capture_output=True, text=True, check=True).stdout for p in (a, b, a)]
    assert keys[0] == keys[2] != keys[1] and keys[0].startswith("key=replace-guard-venv-")


# -- example CI configs -------------------------------------------------------------------------

def test_github_workflow_example():
    wf = load_yaml(EXAMPLES / "github-actions.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert on and "pull_request" in on
    assert wf["permissions"]["security-events"] == "write" and wf["permissions"]["pull-requests"] == "write"
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@")
    setup = next(s for s in steps if s.get("uses", "").startswith("hashicorp/setup-terraform@"))
    assert setup["with"]["terraform_wrapper"] is False
    runs = " ".join(s.get("run", "") for s in steps)
    for command in ("terraform init", "terraform plan", "-out=tfplan", "terraform show -json tfplan > plan.json"):
        assert command in runs
    guard = next(s for s in steps if "replace-guard" in s.get("uses", ""))
    assert guard["with"]["plan"] == "plan.json"
    assert set(guard["with"]) <= set(load_yaml(REPO / "action.yml")["inputs"])
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert "always()" in upload["if"]
    assert upload["with"]["sarif_file"] == guard["with"]["sarif"]
    assert uses.index(upload["uses"]) > uses.index(guard["uses"]) > uses.index(setup["uses"])


def test_circleci_example():
    cfg = load_yaml(EXAMPLES / "circleci" / "config.yml")
    assert str(cfg["version"]) == "2.1"
    assert cfg["jobs"] and cfg["workflows"]
    for workflow in cfg["workflows"].values():
        for entry in workflow["jobs"]:
            name = entry if isinstance(entry, str) else next(iter(entry))
            assert name in cfg["jobs"]
    # Resolve the reusable command the job calls.
    commands = cfg.get("commands", {})
    steps = []
    for step in cfg["jobs"]["plan"]["steps"]:
        name = step if isinstance(step, str) else next(iter(step))
        steps.extend(commands[name]["steps"] if name in commands else [step])
    names = [s if isinstance(s, str) else next(iter(s)) for s in steps]
    assert "checkout" in names and "store_test_results" in names and "store_artifacts" in names
    guard = next(s["run"] for s in steps if isinstance(s, dict) and "run" in s and "replace-guard check" in str(s["run"]))
    junit = re.search(r"--output junit=(\S+)", guard["command"]).group(1)
    results = next(s["store_test_results"]["path"] for s in steps if isinstance(s, dict) and "store_test_results" in s)
    assert junit.startswith(results.rstrip("/") + "/")
    # The job fails only after the reports are stored.
    fail = max(i for i, s in enumerate(steps) if isinstance(s, dict) and "exit-code" in str(s.get("run", "")))
    assert fail > names.index("store_test_results") and fail > names.index("store_artifacts")


def test_gitlab_example():
    cfg = load_yaml(EXAMPLES / "gitlab-ci.yml")
    jobs = {k: v for k, v in cfg.items() if isinstance(v, dict) and "script" in v}
    assert jobs
    job = jobs["replace-guard"]
    assert job["stage"] in cfg["stages"]
    reports = job["artifacts"]["reports"]
    assert job["artifacts"]["when"] == "always"
    script = "\n".join(job["script"])
    gitlab_out = re.search(r"--output gitlab=(\S+)", script).group(1)
    junit_out = re.search(r"--output junit=(\S+)", script).group(1)
    assert reports["terraform"] == f"$TF_ROOT/{gitlab_out}"
    assert reports["junit"] == f"$TF_ROOT/{junit_out}"
    codequality_out = re.search(r"--output codequality=(\S+)", script).group(1)
    assert reports["codequality"] == f"$TF_ROOT/{codequality_out}"
    assert 'cd "$TF_ROOT"' in script and "terraform show -json tfplan > plan.json" in script


def test_pre_commit_hook():
    hooks = load_yaml(REPO / ".pre-commit-hooks.yaml")
    hook = next(h for h in hooks if h["id"] == "replace-guard")
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert hook["entry"].split()[0] in scripts and hook["entry"].split()[1] == "check"
    pattern = re.compile(hook["files"])
    for name in ("tfplan.json", "infra/plan.json", "stacks/prod/prod.plan.json"):
        assert pattern.search(name), name
    for name in ("main.tf", "package.json", "plans/readme.md"):
        assert not pattern.search(name), name


def test_readme_has_a_section_per_ci_system():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- ci:start -->", 1)[1].split("<!-- ci:end -->", 1)[0]
    for needle in ("GitHub Actions", "CircleCI", "GitLab", "pre-commit", "terraform_wrapper: false",
                   "store_test_results", "reports:", "--hook-stage manual"):
        assert needle in section, needle


# -- setup-terraform's wrapper, binary plans ----------------------------------------------------

def test_wrapper_output_is_refused_with_the_fix(tmp_path):
    body = json.dumps(drift_plan())
    wrapped = ("[command]/home/runner/work/_temp/abc/terraform-bin show -json tfplan\n" + body + "\n"
               "::debug::stdout: " + body[:60] + "\n::debug::stderr: \n::debug::exitcode: 0\n")
    path = tmp_path / "plan.json"
    path.write_text(wrapped, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert "terraform_wrapper: false" in result.stderr and str(path) in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _terraform(args: list[str], cwd: Path) -> None:
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    proc = subprocess.run([shutil.which("terraform"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


BUILTIN_TF = """resource "terraform_data" "app" {
  input            = "v1"
  triggers_replace = [var.generation]
}

variable "generation" {
  type = string
}
"""


@pytest.fixture
def binary_plan(tmp_path):
    """A real binary plan that replaces terraform_data.app (built-in provider: no download)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on the PATH")
    (tmp_path / "main.tf").write_text(BUILTIN_TF, encoding="utf-8")
    _terraform(["init", "-input=false", "-no-color"], tmp_path)
    _terraform(["apply", "-input=false", "-auto-approve", "-no-color", "-var", "generation=1"], tmp_path)
    _terraform(["plan", "-input=false", "-no-color", "-var", "generation=2", "-out=tfplan"], tmp_path)
    return tmp_path


def test_binary_plan_file_is_read_through_terraform_show(binary_plan, monkeypatch):
    # A root module with a provider to install has `.terraform` after init; one that uses only the
    # built-in provider has none, and is read all the same (see the next test).
    (binary_plan / ".terraform").mkdir(exist_ok=True)
    monkeypatch.chdir(binary_plan)
    result = CliRunner().invoke(cli, ["check", "tfplan", "--format", "gitlab"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"create": 1, "update": 0, "delete": 1}


def test_binary_plan_of_a_module_with_only_the_builtin_provider(binary_plan, monkeypatch):
    monkeypatch.chdir(binary_plan)
    result = CliRunner().invoke(cli, ["check", "tfplan", "--format", "gitlab"])
    assert result.exit_code == 0, result.output
