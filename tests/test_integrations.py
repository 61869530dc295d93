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
        assert "${{ inputs.%s }}" % name in uses_inputs


def test_action_installs_into_its_own_venv_from_its_own_folder(action):
    install = steps_by_id(action)["install"]
    assert install["env"]["RG_ACTION_PATH"] == "${{ github.action_path }}"
    script = install["run"]
    assert "-m venv" in script and '"$RG_ACTION_PATH"' in script and "pip install" in script
    assert "pip install" not in steps_by_id(action)["guard"]["run"]


def test_action_comment_step_runs_even_after_a_failed_check(action):
    comment = next(s for s in action["runs"]["steps"] if "comment" in s.get("name", "").lower())
    assert comment["if"].startswith("always()") and "inputs.comment == 'true'" in comment["if"]
    assert comment["env"]["GH_TOKEN"] == "${{ inputs.github-token }}"


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


def _fake_gh(tmp: Path, existing: str) -> dict[str, str]:
    bindir = tmp / "bin"
    bindir.mkdir()
    gh = bindir / "gh"
    gh.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> "$GH_LOG"\n'
                  'case "$*" in *--paginate*) [ -n "$FAKE_EXISTING" ] && printf "%s\\n" "$FAKE_EXISTING";; esac\n'
                  'exit 0\n', encoding="utf-8")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "GH_LOG": str(tmp / "gh.log"),
            "FAKE_EXISTING": existing}


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize("existing", ["", "4242"])
def test_action_comment_updates_the_marked_comment_or_adds_one(action, runner_env, existing):
    env, workspace, tmp = runner_env
    md = tmp / "report.md"
    md.write_text(MARKER + "\n## replace-guard\n", encoding="utf-8")
    event = tmp / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    env.update(_fake_gh(tmp, existing))
    env.update({"GITHUB_EVENT_PATH": str(event), "RG_MD": str(md), "GH_TOKEN": "t"})
    comment = next(s for s in action["runs"]["steps"] if "comment" in s.get("name", "").lower())
    proc = _run_step(comment, env, workspace)
    assert proc.returncode == 0, proc.stderr
    calls = (tmp / "gh.log").read_text(encoding="utf-8").splitlines()
    assert calls[0].startswith("api --paginate repos/octo/infra/issues/7/comments")
    assert MARKER in calls[0]
    if existing:
        assert calls[1] == f"api --method PATCH repos/octo/infra/issues/comments/4242 -F body=@{md}"
    else:
        assert calls[1] == f"api --method POST repos/octo/infra/issues/7/comments -F body=@{md}"
    assert len(calls) == 2


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_action_comment_does_nothing_outside_a_pull_request(action, runner_env):
    env, workspace, tmp = runner_env
    event = tmp / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/main"}), encoding="utf-8")
    env.update(_fake_gh(tmp, ""))
    env.update({"GITHUB_EVENT_PATH": str(event), "RG_MD": str(tmp / "x.md"), "GH_TOKEN": "t"})
    comment = next(s for s in action["runs"]["steps"] if "comment" in s.get("name", "").lower())
    proc = _run_step(comment, env, workspace)
    assert proc.returncode == 0 and "not a pull-request event" in proc.stdout
    assert not (tmp / "gh.log").exists()


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
