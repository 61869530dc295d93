"""`replace-guard plan`: terraform plan + show -json + check in one command.

The real tests run Terraform against moto (tests/realtf.py): apply an AMI-drift root module,
check that an unchanged world plans clean (exit 0), publish a newer image and check that
`replace-guard plan` fails with TFG001 at the `.tf` line (exit 1). The fake-terraform tests
(a shell script standing in for the binary) cover failures and argument handling anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import realtf

REGION = "ap-south-1"  # no scenario uses it; the image names are this test's own as well
IMAGE = "rg-plan-command-{}-x86_64"

MAIN_TF = """data "aws_ami" "base" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "name"
    values = ["rg-plan-command-*"]
  }
}

resource "aws_instance" "web" {
  ami           = data.aws_ami.base.id
  instance_type = "t3.micro"
}

variable "note" {
  type    = string
  default = ""
}
"""


def guard(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(scope="module")
def drift_root(moto_server, tmp_path_factory):
    """An applied root module (instance on image v1) and the environment that plans it against moto."""
    reason = realtf.skip_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("plan-command")
    terraform = realtf.find_terraform()
    _, run_config = realtf.write_cli_configs(work, realtf.find_mirror())
    template = realtf.initialised_template(work, terraform)
    root = work / "root"
    shutil.copytree(template / ".terraform", root / ".terraform", symlinks=True)
    shutil.copy(template / ".terraform.lock.hcl", root)
    ws = realtf.Workspace(root, terraform, realtf.terraform_env(run_config, moto_server.url))
    ws.write("main.tf", MAIN_TF)
    ws.write("provider.tf", realtf.provider_tf(REGION))
    old = realtf.register_image(moto_server, IMAGE.format("2024.01"), REGION)
    ws.apply()
    tmp = work / "tmp"
    tmp.mkdir()
    env = dict(ws.env, TMPDIR=str(tmp), NO_COLOR="1")
    env["PATH"] = os.path.dirname(terraform) + os.pathsep + env.get("PATH", "")
    return {"root": root, "env": env, "tmp": tmp, "old": old, "moto": moto_server}


def test_clean_plan_exits_0_and_keeps_no_plan_file(drift_root):
    result = guard("plan", "-C", str(drift_root["root"]), cwd=drift_root["root"].parent, env=drift_root["env"])
    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stderr  # terraform's own output, passed through to stderr
    assert "replace-guard" in result.stdout and "TFG" not in result.stdout
    assert list(drift_root["tmp"].iterdir()) == []  # the temporary plan is gone
    assert not (drift_root["root"] / "tfplan").exists()


def test_new_image_fails_with_tfg001_at_the_tf_line(drift_root):
    time.sleep(1.2)  # moto stamps images to the second; most_recent needs a later one
    new = realtf.register_image(drift_root["moto"], IMAGE.format("2024.02"), REGION)
    root = drift_root["root"]
    out = root.parent / "kept.tfplan"
    result = guard("plan", "-C", str(root), "--format", "json", "--out", str(out), cwd=root.parent,
                   env=drift_root["env"])
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)  # stdout is the report alone: terraform went to stderr
    assert "1 to add, 0 to change, 1 to destroy" in result.stderr
    (finding,) = [f for f in report["findings"] if f["rule"] == "TFG001"]
    assert finding["address"] == "aws_instance.web"
    assert finding["values"][0]["before"] == drift_root["old"] and finding["values"][0]["after"] == new
    assert finding["location"]["file"].endswith("main.tf") and finding["location"]["line"] == 12
    assert report["plans"][0]["plan"] == str(out)
    assert out.is_file() and out.read_bytes().startswith(b"PK")  # --out keeps the binary plan

    # The same plan with the text report, run from inside the root module (default -C).
    text = guard("plan", cwd=root, env=drift_root["env"])
    assert text.returncode == 1, text.stderr
    assert "TFG001 aws_instance.web" in text.stdout
    assert "main.tf:12" in text.stdout
    assert list(drift_root["tmp"].iterdir()) == []

    # check options pass through: a matching allow entry makes it pass
    allowed = guard("plan", "--allow", "aws_instance.web:TFG001", cwd=root, env=drift_root["env"])
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_terraform_error_exits_2_with_its_message(drift_root):
    result = guard("plan", "-C", str(drift_root["root"]), "--", "-var", "undeclared=1",
                   cwd=drift_root["root"], env=drift_root["env"])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()
    message = "\n".join(last[-3:])
    assert "replace-guard: error: terraform plan in" in message
    assert "undeclared" in message.lower()
    assert result.stdout == ""


# ---------------------------------------------------------------------------
# without real terraform: a script stands in for the binary


def fake_terraform(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "faketf"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(not shutil.which("sh"), reason="needs /bin/sh")
def test_failing_terraform_exits_2_with_first_error(tmp_path: Path):
    fake = fake_terraform(tmp_path, 'echo "args: $*"\n'
                                    'printf "\\342\\225\\267\\n\\342\\224\\202 Error: No valid credential sources found\\n" >&2\n'
                                    "exit 1\n")
    result = guard("plan", "-C", str(tmp_path), "--terraform", str(fake), "--", "-var", "a=b",
                   cwd=tmp_path, env=dict(os.environ))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "args: plan -out=" in result.stderr and "-input=false" in result.stderr and "-var a=b" in result.stderr
    assert "failed with exit code 1: No valid credential sources found" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_binary_and_reserved_out_are_usage_errors(tmp_path: Path):
    missing = guard("plan", "-C", str(tmp_path), "--terraform", str(tmp_path / "nope"), cwd=tmp_path,
                    env=dict(os.environ))
    assert missing.returncode == 2
    assert "nope: is not an executable file" in missing.stderr
    fake = fake_terraform(tmp_path, "exit 0\n")
    out = guard("plan", "-C", str(tmp_path), "--terraform", str(fake), "--", "-out=x", cwd=tmp_path,
                env=dict(os.environ))
    assert out.returncode == 2
    assert "use --out FILE" in out.stderr
    not_dir = guard("plan", "-C", str(tmp_path / "missing"), cwd=tmp_path, env=dict(os.environ))
    assert not_dir.returncode == 2 and "Traceback" not in not_dir.stderr
