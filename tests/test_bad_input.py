"""Bad input ends with exit 2 and a short message that names the file and the fix, never a
traceback; input that can be read (byte-order marks, UTF-16) is read.

Every case runs the real command line in a fresh process: `python -m guard check FILE`.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from handmade import ami_drift_plan

REPO = Path(__file__).resolve().parents[1]


def guard(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guard", "check", *args], check=False, capture_output=True, text=True,
                          cwd=cwd, timeout=120, env=_env())


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    # The package may be installed editable or not at all: run this checkout's guard.
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def plan_bytes(**kw) -> bytes:
    return json.dumps(ami_drift_plan(**kw)).encode("utf-8")


def _nested(depth: int) -> bytes:
    plan = ami_drift_plan()
    plan["planned_values"] = "@@"
    text = json.dumps(plan).encode()
    return text.replace(b'"@@"', b"[" * depth + b"]" * depth)


def _wrapper_output() -> bytes:
    """What hashicorp/setup-terraform's wrapper leaves in `terraform show -json tfplan > plan.json`."""
    return (b"[command]/home/runner/work/_temp/abc/terraform-bin show -json tfplan\n" + plan_bytes()
            + b"\n::debug::Terraform exited with code 0.\n::debug::stdout: ...\n::debug::stderr: \n"
            b"::debug::exitcode: 0\n")


def _state() -> bytes:
    """`terraform show -json` with no plan file: the current state."""
    return json.dumps({"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {
        "resources": [{"address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
                       "values": {"id": "i-0123"}, "sensitive_values": {}}]}}}).encode()


def _future() -> bytes:
    plan = ami_drift_plan()
    plan["format_version"] = "2.0"
    return json.dumps(plan).encode()


def _wrong_shape_top() -> bytes:
    plan = ami_drift_plan()
    plan["resource_changes"] = {"aws_instance.app": plan["resource_changes"][0]}
    return json.dumps(plan).encode()


def _wrong_shape_change() -> bytes:
    plan = ami_drift_plan()
    plan["resource_changes"][0]["change"]["actions"] = "delete"
    return json.dumps(plan).encode()


def _wrong_shape_paths() -> bytes:
    plan = ami_drift_plan()
    plan["resource_changes"][0]["change"]["replace_paths"] = {"ami": True}
    return json.dumps(plan).encode()


def _deep_wrong(where: str) -> bytes:
    """A field of the wrong type deep in the configuration (each of these was an internal error)."""
    plan = ami_drift_plan(module="app", address="module.app.aws_instance.this")
    root = plan["configuration"]["root_module"]
    call = root["module_calls"]["app"]
    if where == "references":
        call["expressions"]["ami_id"]["references"] = 5
    elif where == "reference":
        call["module"]["resources"][0]["expressions"]["ami"]["references"] = [5, None]
    elif where == "provider-expressions":
        plan["configuration"]["provider_config"]["aws"]["expressions"] = ["x"]
    elif where == "resource-expressions":
        call["module"]["resources"][0]["expressions"] = ["x"]
    elif where == "call-expressions":
        call["expressions"] = ["x"]
    elif where == "expression":
        root["resources"][0]["expressions"]["most_recent"] = 5
    elif where == "nested-block":
        root["resources"][0]["expressions"]["filter"] = [5]
    elif where == "call-module":
        call["module"] = "x"
    elif where == "output":
        call["module"]["outputs"] = {"id": {"expression": "x"}}
    return json.dumps(plan).encode()


def _huge_index() -> bytes:
    plan = ami_drift_plan()
    plan["resource_changes"][0]["index"] = "@@"
    return json.dumps(plan).encode().replace(b'"@@"', b"9" * 5000)


def _log_stream() -> bytes:
    """What `terraform plan -json` writes: the machine-readable UI, one message a line."""
    lines = [
        {"@level": "info", "@message": "Terraform 1.11.4", "@module": "terraform.ui",
         "@timestamp": "2025-01-01T00:00:00.000000Z", "terraform": "1.11.4", "type": "version", "ui": "1.2"},
        {"@level": "info", "@message": "aws_instance.app: Plan to replace", "@module": "terraform.ui",
         "@timestamp": "2025-01-01T00:00:01.000000Z", "change": {"action": "replace"}, "type": "planned_change"},
    ]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def _log_line() -> bytes:
    return _log_stream().split(b"\n")[0] + b"\n"


def _tfstate() -> bytes:
    """A raw state file, `terraform.tfstate`."""
    return json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 12,
                       "lineage": "3f2a8e4c-0000-4000-8000-000000000000", "outputs": {},
                       "resources": [{"mode": "managed", "type": "aws_instance", "name": "app",
                                      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                                      "instances": [{"attributes": {"id": "i-0123"}}]}]}).encode()


def _random_bytes() -> bytes:
    return random.Random(5).randbytes(4096)


def _random_after_brace() -> bytes:
    return b"{" + random.Random(6).randbytes(4096)


def _ascii_garbage_after_brace() -> bytes:
    rng = random.Random(7)
    return b"{" + bytes(rng.choice(b'{}[]:,"ab01 \n\\') for _ in range(4096))


# (id, file content, words the problem must contain, words the fix must contain)
BAD_FILES = [
    ("empty", b"", "is empty", "terraform show -json"),
    ("blank", b" \n\t\r\n" * 100, "is empty", "terraform show -json"),
    ("truncated", plan_bytes()[:700], "not valid JSON", "cut short"),
    ("array", b'[{"format_version": "1.2"}]', "JSON array", "terraform show -json"),
    ("not-a-plan", b'{"name": "my-app", "version": "1.0.0"}', "not a Terraform plan", "terraform show -json"),
    ("state", _state(), "is a state", "terraform plan -out"),
    ("future-format", _future(), "format_version 2.0", "upgrade replace-guard"),
    ("wrong-shape", _wrong_shape_top(), "got `object` - at `$.resource_changes`", "unmodified output"),
    ("wrong-shape-actions", _wrong_shape_change(), "resource_changes[0].change.actions", "unmodified output"),
    ("wrong-shape-replace-paths", _wrong_shape_paths(), "replace_paths", "unmodified output"),
    ("random-bytes", _random_bytes(), "", "terraform show -json"),
    ("random-after-brace", _random_after_brace(), "is not UTF-8 text", "save it as UTF-8"),
    ("ascii-garbage-after-brace", _ascii_garbage_after_brace(), "not valid JSON", "terraform show -json"),
    ("deep-nesting", _nested(100_000), "deeper than", "unmodified output"),
    ("wrapper", _wrapper_output(), "[command]", "terraform_wrapper: false"),
    ("binary-plan-elsewhere", b"PK\x03\x04" + bytes(200), "binary plan", "terraform show -json"),
    ("utf16-bad", b"\xff\xfe" + b"\x00\xd8" * 3, "UTF-16", "terraform show -json"),
    ("not-utf8", b'{"format_version": "1.2", "terraform_version": "\xff\xfe\xfa"}', "is not UTF-8 text", "save it"),
    ("latin-1-in-a-value", plan_bytes().replace(b'"t3.micro"', b'"t3.micro \xe9t\xe9"'), "byte 0xe9", "UTF-8"),
    ("wrong-references", _deep_wrong("references"),
     "got `int` - at `$.configuration.root_module.module_calls.app.expressions.ami_id.references`", "unmodified output"),
    ("wrong-reference", _deep_wrong("reference"),
     ("Expected `str`, got `int` - at `$.configuration.root_module.module_calls.app.module.resources[0]"
      ".expressions.ami.references[0]`"), "unmodified output"),
    ("wrong-provider-expressions", _deep_wrong("provider-expressions"),
     "Expected `object`, got `array` - at `$.configuration.provider_config.aws.expressions`", "unmodified output"),
    ("wrong-resource-expressions", _deep_wrong("resource-expressions"),
     "got `array` - at `$.configuration.root_module.module_calls.app.module.resources[0].expressions`",
     "unmodified output"),
    ("wrong-call-expressions", _deep_wrong("call-expressions"),
     "got `array` - at `$.configuration.root_module.module_calls.app.expressions`", "unmodified output"),
    ("wrong-expression", _deep_wrong("expression"),
     "got `int` - at `$.configuration.root_module.resources[0].expressions.most_recent`", "unmodified output"),
    ("wrong-nested-block", _deep_wrong("nested-block"),
     "got `int` - at `$.configuration.root_module.resources[0].expressions.filter[0]`", "unmodified output"),
    ("wrong-call-module", _deep_wrong("call-module"), "got `str` - at `$.configuration.root_module.module_calls",
     "unmodified output"),
    ("wrong-output", _deep_wrong("output"),
     "got `str` - at `$.configuration.root_module.module_calls.app.module.outputs.id.expression`", "unmodified output"),
    ("huge-index", _huge_index(), "at `$.resource_changes[0].index`", "unmodified output"),
    ("plan-json-log", _log_stream(), "is the log of `terraform plan -json`",
     "terraform plan -out=tfplan`, then `terraform show -json tfplan"),
    ("plan-json-log-one-line", _log_line(), "is the log of `terraform plan -json`", "terraform show -json tfplan"),
    ("tfstate", _tfstate(), "is a Terraform state file", "terraform plan -out=tfplan`, then `terraform show -json tfplan"),
]


def _assert_refused(proc: subprocess.CompletedProcess, name: str, problem: str, fix: str) -> None:
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], err[-2000:])
    assert "Traceback" not in err and "Traceback" not in proc.stdout
    assert name in err, err
    assert problem in err, err
    assert "fix:" in err, err
    assert fix in err.split("fix:", 1)[1], err
    assert len(err.splitlines()) <= 4 and len(err) < 800, err
    assert proc.stdout == ""


@pytest.mark.parametrize("case", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_refused(case, tmp_path: Path):
    ident, content, problem, fix = case
    path = tmp_path / f"{ident}.json"
    path.write_bytes(content)
    _assert_refused(guard(path.name, cwd=tmp_path), path.name, problem, fix)


def test_directory_is_refused(tmp_path: Path):
    (tmp_path / "plans").mkdir()
    _assert_refused(guard("plans", cwd=tmp_path), "plans", "is a directory", "-C DIR")


def test_missing_file_is_refused(tmp_path: Path):
    _assert_refused(guard("nowhere.json", cwd=tmp_path), "nowhere.json", "no such file", "terraform show -json")


def test_unreadable_file_is_refused(tmp_path: Path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file: permissions cannot make one unreadable")
    path = tmp_path / "locked.json"
    path.write_bytes(plan_bytes())
    path.chmod(0)
    _assert_refused(guard(path.name, cwd=tmp_path), path.name, "cannot be read", "permissions")


def test_bad_file_among_good_ones_is_named(tmp_path: Path):
    (tmp_path / "good.json").write_bytes(plan_bytes())
    (tmp_path / "bad.json").write_bytes(b"[]")
    proc = guard("good.json", "bad.json", cwd=tmp_path)
    _assert_refused(proc, "bad.json", "JSON array", "terraform show -json")
    assert "good.json" not in proc.stderr


def test_standard_input_is_named(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "guard", "check", "-"], input=b"{not json", check=False, capture_output=True,
                          cwd=tmp_path, timeout=120, env=_env())
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in err
    assert err.startswith("replace-guard: error: -: ") and "fix:" in err


# -- what can be read is read -------------------------------------------------------------------
ENCODINGS = [
    ("utf-8-bom", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
    ("utf-16-le-bom", lambda text: text.encode("utf-16")),  # what Windows PowerShell 5 `>` writes
    ("utf-16-be-bom", lambda text: b"\xfe\xff" + text.encode("utf-16-be")),
    ("crlf-pretty", lambda text: json.dumps(json.loads(text), indent=2).replace("\n", "\r\n").encode()),
]


@pytest.mark.parametrize("encode", [e[1] for e in ENCODINGS], ids=[e[0] for e in ENCODINGS])
def test_readable_encodings_analyse_normally(encode, tmp_path: Path):
    text = json.dumps(ami_drift_plan())
    (tmp_path / "plain.json").write_text(text, encoding="utf-8")
    (tmp_path / "encoded.json").write_bytes(encode(text))
    plain = guard("plain.json", "--format", "json", cwd=tmp_path)
    encoded = guard("encoded.json", "--format", "json", cwd=tmp_path)
    assert plain.returncode == 1, plain.stderr  # the plan replaces an instance: TFG001
    assert encoded.returncode == plain.returncode, encoded.stderr
    assert "Traceback" not in encoded.stderr
    expect = json.loads(plain.stdout)
    got = json.loads(encoded.stdout)
    for report in (expect, got):
        for part in report["findings"] + report["plans"]:
            part.pop("plan", None)
    assert got["findings"] == expect["findings"]
    assert got["summary"] == expect["summary"]


def test_whitespace_around_the_json_is_read(tmp_path: Path):
    (tmp_path / "plan.json").write_bytes(b"\n\n  " + plan_bytes() + b"\n\n")
    proc = guard("plan.json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr


# -- numbers Python cannot hold, duplicated keys, forged caches ---------------------------------------
def _check_json(path: Path, cwd: Path) -> tuple[int, dict]:
    proc = guard(path.name, "--format", "json", cwd=cwd)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.startswith("{") else {})


def test_numbers_python_cannot_hold_are_read(tmp_path: Path):
    """Terraform writes a number as all its digits (cty: `Text('f', -1)`), so `pow(10, 5000)` in the
    code is a 5,001-digit integer in the plan: read it (kept as its text), in values and in the
    configuration, without an internal error."""
    plan = ami_drift_plan()
    plan["resource_changes"][0]["change"]["before"]["cpu_core_count"] = "@@big"
    plan["resource_changes"][0]["change"]["after"]["cpu_core_count"] = "@@float"
    plan["resource_changes"][0]["change"]["replace_paths"] = [["ami"], ["cpu_core_count"]]
    plan["configuration"]["root_module"]["resources"][1]["expressions"]["cpu_core_count"] = {
        "constant_value": "@@big"}
    text = json.dumps(plan).encode().replace(b'"@@big"', b"1" + b"0" * 5000).replace(b'"@@float"', b"1e400")
    path = tmp_path / "plan.json"
    path.write_bytes(text)
    code, doc = _check_json(path, tmp_path)
    assert code == 1
    finding = doc["findings"][0]
    assert finding["address"] == "aws_instance.app" and finding["rule"] == "TFG001"


def _change_text(actions_first: str, actions_last: str, extra: str = "") -> bytes:
    """The AMI-drift plan with its change written by hand, keys in the order given."""
    plan = ami_drift_plan()
    plan["resource_changes"][0]["change"] = "@@change"
    change = dict(ami_drift_plan()["resource_changes"][0]["change"])
    del change["actions"]
    rest = json.dumps(change, separators=(",", ":"))[1:-1]
    text = "{" + f'"actions":{actions_first},' + rest + f',{actions_last}' + extra + "}"
    return json.dumps(plan, separators=(",", ":")).encode().replace(b'"@@change"', text.encode())


@pytest.mark.parametrize("second", ['"actions":["delete","create"]', '"\\u0061ctions":["delete","create"]'],
                         ids=["plain", "escaped"])
def test_duplicated_actions_are_read_like_jq_the_last_wins(tmp_path: Path, second: str):
    """`terraform show -json` starts a no-op as `{"actions":["no-op"],`; a second `actions` key
    after it wins, as it does for jq and Python: the replacement is found."""
    text = _change_text('["no-op"]', second)
    assert text.count(b'{"actions":["no-op"],') == 1
    doc = json.loads(text)  # what Python (and jq) read
    assert doc["resource_changes"][0]["change"]["actions"] == ["delete", "create"]
    path = tmp_path / "plan.json"
    path.write_bytes(text)
    code, report = _check_json(path, tmp_path)
    assert code == 1
    assert [(f["address"], f["actions"]) for f in report["findings"]] == [("aws_instance.app", ["delete", "create"])]


def test_duplicated_before_and_replace_paths_are_read_like_jq(tmp_path: Path):
    text = _change_text('["delete","create"]', '"replace_paths":[["ami"]]',
                        ',"before":{"ami":"ami-0last0000","instance_type":"t3.micro","id":"i-0123"}')
    text = text.replace(b'"replace_paths":[["ami"]]', b'"replace_paths":[["instance_type"]]', 1)
    path = tmp_path / "plan.json"
    path.write_bytes(text)
    code, report = _check_json(path, tmp_path)
    finding = report["findings"][0]
    assert code == 1
    assert finding["replace_paths"] == [["ami"]]
    assert finding["values"][0]["before"] == "ami-0last0000"


def test_cache_fields_cannot_be_forged_in_the_plan(tmp_path: Path):
    """The model caches decoded parts on the structs under JSON names; a plan that holds those
    names must not be able to set them."""
    plan = ami_drift_plan()
    plan["resource_changes"][0]["replace-guard:actions"] = ["no-op"]
    plan["resource_changes"][0]["replace-guard:change"] = {"actions": ["no-op"]}
    plan["configuration"]["root_module"]["resources"][1]["replace-guard:exprs"] = {}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, report = _check_json(path, tmp_path)
    assert code == 1
    assert report["findings"][0]["rule"] == "TFG001"
    assert [link["ref"] for link in report["findings"][0]["chain"]] == ["aws_instance.app.ami", "data.aws_ami.al2"]


def test_a_plan_file_name_that_is_not_utf8(tmp_path: Path):
    try:
        with open(os.path.join(os.fsencode(tmp_path), b"pl\xffan.json"), "wb") as fh:
            fh.write(plan_bytes())
    except OSError:
        pytest.skip("this file system takes UTF-8 names only")
    name = os.fsdecode(b"pl\xffan.json")
    for fmt in ("json", "sarif", "markdown", "junit", "text"):
        proc = subprocess.run([sys.executable, "-m", "guard", "check", name, "--format", fmt], check=False, capture_output=True,
                              cwd=tmp_path, timeout=120, env=_env())
        assert proc.returncode == 1, proc.stderr
        assert b"internal error" not in proc.stderr
        out = proc.stdout.decode("utf-8")
        assert re.search(r"pl\\+xffan", out), (fmt, out[-1500:])  # the byte, escaped (markdown doubles the \\)
