"""Local modules beside the root module (`source = "../modules/app"`): inside the repository, so the
user's own files, and `replace-guard fix` writes a diff `git apply` takes at the repository's top."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from handmade import ami_drift_plan

LIVE_TF = """data "aws_ami" "al2" {
  most_recent = true
  owners      = ["self"]
}

module "app" {
  source = "../modules/app"
  ami_id = data.aws_ami.al2.id
}
"""
MODULE_TF = """variable "ami_id" {
  type = string
}

resource "aws_instance" "this" {
  ami           = var.ami_id
  instance_type = "t3.micro"
}
"""


def layout(tmp_path: Path, with_git: bool = True) -> Path:
    repo = tmp_path / "repo"
    (repo / "live").mkdir(parents=True)
    (repo / "modules" / "app").mkdir(parents=True)
    if with_git:
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "live" / "main.tf").write_text(LIVE_TF)
    (repo / "modules" / "app" / "main.tf").write_text(MODULE_TF)
    plan = ami_drift_plan("module.app.aws_instance.this", module="app")
    plan["configuration"]["root_module"]["module_calls"]["app"]["source"] = "../modules/app"
    (repo / "live" / "plan.json").write_text(json.dumps(plan))
    return repo


def guard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_a_local_module_beside_the_root_module_is_the_users(tmp_path):
    repo = layout(tmp_path)
    result = guard(repo / "live", "check", "plan.json", "-C", ".", "--format", "json")
    (finding,) = json.loads(result.stdout)["findings"]
    ignore = next(f for f in finding["fixes"] if f["strategy"] == "ignore")
    assert ignore["edits"][0]["file"].endswith("modules/app/main.tf")
    assert "outside the repository" not in json.dumps(finding["fixes"])


def test_the_diff_names_paths_from_the_repository_top_when_an_edit_is_beside_the_root(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = layout(tmp_path)
    result = guard(repo / "live", "fix", "plan.json", "-C", ".", "--strategy", "ignore")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("--- a/modules/app/main.tf\n+++ b/modules/app/main.tf\n")
    assert f"relative to {repo.resolve()}" in result.stderr
    applied = subprocess.run(["git", "apply", "-"], cwd=repo, input=result.stdout, text=True, capture_output=True)
    assert applied.returncode == 0, applied.stderr
    assert "ignore_changes = [ami]" in (repo / "modules" / "app" / "main.tf").read_text()
    assert (repo / "live" / "main.tf").read_text() == LIVE_TF
    # the pin stays in the root module's own file, with paths from there
    pinned = guard(repo / "live", "fix", "plan.json", "-C", ".")
    assert pinned.stdout.startswith("--- a/main.tf\n") and "relative to" not in pinned.stderr


def test_without_a_repository_a_module_outside_the_root_folder_is_not_read(tmp_path):
    repo = layout(tmp_path, with_git=False)
    result = guard(repo / "live", "check", "plan.json", "-C", ".", "--format", "json")
    (finding,) = json.loads(result.stdout)["findings"]
    assert not any(e["file"].endswith("modules/app/main.tf") for f in finding["fixes"] for e in f["edits"])
