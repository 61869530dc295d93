"""Read a plan: a `terraform show -json` file, standard input, or a binary plan file."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .errors import InputError, printable
from .model import (
    NOOP,
    Plan,
    actions_decoder,
    configuration_problem,
    normal_actions,
    plan_decoder,
    shared_actions,
)
from .sources import has_config_files

SHOW_HINT = "write the plan as JSON with `terraform show -json tfplan > plan.json` and pass that file"
WRAPPER_FIX = (
    "hashicorp/setup-terraform's wrapper added its own lines around the JSON: "
    "set `terraform_wrapper: false` on the setup-terraform step"
)
SUPPORTED_MAJOR = {"0", "1"}
NOT_A_PLAN_FIX = "pass the unmodified output of `terraform show -json tfplan`"
PLAN_THEN_SHOW = "run `terraform plan -out=tfplan`, then `terraform show -json tfplan > plan.json`, and pass plan.json"


@dataclass
class LoadedPlan:
    label: str  # what the user named: a path, or "-" for standard input
    plan: Plan
    size: int
    folder: Path | None  # the folder the plan file lies in


def read_source(name: str) -> bytes:
    if name == "-":
        data = sys.stdin.buffer.read()
        return data
    path = Path(name)
    if path.is_dir():
        raise InputError(name, "is a directory, not a plan file",
                         "pass the plan file itself (`terraform show -json tfplan > plan.json` writes one); "
                         "to give the .tf sources, use -C DIR")
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError(name, "no such file", SHOW_HINT) from None
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror or exc})",
                         "check the path and its permissions") from None


def normalise_text(name: str, data: bytes) -> bytes:
    """Undo byte-order marks and UTF-16 (what Windows PowerShell 5 `>` writes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError(name, "starts with a UTF-16 byte-order mark but is not valid UTF-16",
                             SHOW_HINT) from None
    return data


def _first_char(data: bytes) -> int:
    for i in range(min(len(data), 4096)):
        if data[i] not in b" \t\r\n":
            return data[i]
    return -1


def _is_wrapper_output(data: bytes) -> bool:
    """hashicorp/setup-terraform's wrapper: `[command]...` before the JSON, `::debug::` lines after."""
    head = data[:4096].lstrip()
    tail = data[-4096:]
    return (head.startswith((b"[command]", b"::debug::")) or b"\n::debug::" in head
            or b"\n::debug::" in tail or tail.rstrip().endswith(b"::debug::exitcode: 0"))


def _check_utf8(name: str, data: bytes) -> None:
    """JSON is UTF-8. msgspec checks only the strings it decodes, and most of a plan stays raw
    until a rule reads it, so check the whole file here, in chunks (no copy of the file)."""
    if data.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 22
    for start in range(0, len(data), step):
        chunk = data[start:start + step]
        try:
            decoder.decode(chunk, final=start + step >= len(data))
        except UnicodeDecodeError as exc:
            # exc.object is what the decoder held over from the last chunk, then this chunk.
            offset = start - (len(exc.object) - len(chunk)) + exc.start
            raise InputError(name, f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {offset:,})",
                             "save it as UTF-8, or write it again with "
                             "`terraform show -json tfplan > plan.json`") from None


def decode_plan(name: str, data: bytes) -> Plan:
    # Whole-file checks must not copy the file (`strip()` would): it can be hundreds of MB.
    if not data or data.isspace():
        raise InputError(name, "is empty", SHOW_HINT)
    if _is_wrapper_output(data):
        raise InputError(name, "is not plain JSON: it holds `[command]`/`::debug::` lines", WRAPPER_FIX)
    first = _first_char(data)
    if first == ord("["):
        raise InputError(name, "is a JSON array, not a plan object", SHOW_HINT)
    if first != ord("{"):
        raise InputError(name, "is not JSON", SHOW_HINT)
    _check_utf8(name, data)
    try:
        plan = plan_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise InputError(name, f"is not a plan this tool can read: {_short(exc)}", NOT_A_PLAN_FIX) from None
    except RecursionError:
        raise InputError(name, "nests JSON values deeper than this tool reads (about 1,000 levels)",
                         NOT_A_PLAN_FIX) from None
    except msgspec.DecodeError as exc:
        _refuse_other_kinds(name, data)
        raise InputError(name, f"is not valid JSON ({_short(exc)})",
                         "the file may be cut short or not JSON; " + SHOW_HINT) from None
    if not plan.format_version:
        _refuse_other_kinds(name, data)
        raise InputError(name, "is JSON, but not a Terraform plan (no `format_version`)", SHOW_HINT)
    major = plan.format_version.split(".", 1)[0]
    if major not in SUPPORTED_MAJOR:
        raise InputError(name, f"has format_version {plan.format_version}, newer than this tool reads (0.x, 1.x)",
                         "upgrade replace-guard, or produce the plan with a Terraform release it supports")
    if (len(plan.values) and not len(plan.planned_values)
            and plan.resource_changes is None and plan.configuration is None):
        raise InputError(name, "is a state, not a plan (`terraform show -json` without a plan file)",
                         "run `terraform plan -out=tfplan`, then `terraform show -json tfplan`")
    if plan.configuration is None and plan.resource_changes is None and not len(plan.planned_values):
        raise InputError(name, "is JSON with a format_version, but holds no plan", SHOW_HINT)
    _check_changes(name, plan)
    problem = configuration_problem(plan)
    if problem:
        raise InputError(name, f"is not a plan this tool can read: {_short(problem)}", NOT_A_PLAN_FIX)
    return plan


class _LogLine(msgspec.Struct):
    """A line of `terraform plan -json` (or apply/validate -json): the machine-readable UI."""

    level: str | None = msgspec.field(default=None, name="@level")
    message: str | None = msgspec.field(default=None, name="@message")
    type: str | None = None


class _StateFile(msgspec.Struct):
    """What a raw state file (`terraform.tfstate`) has at its top."""

    version: msgspec.Raw = msgspec.Raw()
    serial: msgspec.Raw = msgspec.Raw()
    lineage: msgspec.Raw = msgspec.Raw()
    resources: msgspec.Raw = msgspec.Raw()


def _refuse_other_kinds(name: str, data: bytes) -> None:
    """Say what a file is when it is a known kind of Terraform output that is not a plan."""
    head = data[: 1 << 16].lstrip()
    first = head.split(b"\n", 1)[0]
    try:
        line = msgspec.json.decode(first, type=_LogLine)
    except msgspec.DecodeError:  # ValidationError included
        line = None
    if line is not None and line.message is not None and (line.level is not None or line.type is not None):
        raise InputError(name, "is the log of `terraform plan -json` (one JSON message a line), not a plan",
                         PLAN_THEN_SHOW)
    try:
        state = msgspec.json.decode(data, type=_StateFile)
    except msgspec.DecodeError:
        return
    if len(state.lineage) and len(state.serial) and len(state.version):
        raise InputError(name, "is a Terraform state file (`terraform.tfstate`), not a plan", PLAN_THEN_SHOW)


def _check_changes(name: str, plan: Plan) -> None:
    """Read every change's actions; decode the whole change of every one that is not a no-op.

    The model leaves `change` raw (most changes of a large plan are no-ops nobody looks at);
    this is where a change of the wrong shape is refused, with the file named. The actions are
    decoded (msgspec skips the rest of the object at about a GB a second), never guessed from
    the first bytes: a key may be written twice, or with a letter escaped (`"\\u0061ctions"`),
    and like jq, Python and Go the last one counts (msgspec reads every duplicated key that
    way, `before`, `after` and `replace_paths` too).

    The decoded parts are cached on the struct under JSON names a plan could also hold: they are
    set here for every change, never taken from the file.
    """
    # The hot loop of a large plan (100,000 changes): decode_actions, inlined.
    decode, shared = actions_decoder.decode, shared_actions
    for field, changes in (("resource_changes", plan.resource_changes), ("resource_drift", plan.resource_drift)):
        for i, rc in enumerate(changes or ()):
            rc.decoded_change = None
            try:
                raw = rc.change_json
                found = decode(raw).actions if len(raw) else ()
                acts = rc.decoded_actions = shared.get(found) or normal_actions(found)
                if acts != NOOP:
                    rc.change  # noqa: B018 - decodes and keeps it
            except msgspec.ValidationError as exc:
                where = str(exc).replace("`$", f"`$.{field}[{i}].change", 1)
                raise InputError(name, f"is not a plan this tool can read: {_short(where)}", NOT_A_PLAN_FIX) from None


def _short(exc: Exception | str) -> str:
    """At most ~200 characters, keeping the end, where msgspec says where (`- at `$.path``)."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:90] + " ... " + text[-105:]


def is_binary_plan(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def show_binary(name: str, workdir: Path | None, terraform: str | None) -> bytes:
    """Run `terraform show -json` on a binary plan in its initialised root module."""
    folder = workdir or Path(name).resolve().parent
    binary = terraform or shutil.which("terraform")
    if not binary:
        raise InputError(name, "is a binary plan file, and no `terraform` is on the PATH",
                         "install terraform, pass --terraform PATH, or " + SHOW_HINT)
    # A root module that uses only the built-in provider has no `.terraform` after init: ask
    # terraform itself unless the folder holds no module at all.
    if not (folder / ".terraform").exists() and not has_config_files(folder):
        raise InputError(name, f"is a binary plan file, and {folder} is not an initialised root module",
                         "pass -C DIR with the folder where `terraform init` and `terraform plan` ran, or " + SHOW_HINT)
    env = dict(os.environ, TF_IN_AUTOMATION="1")
    try:
        proc = subprocess.run([binary, "show", "-json", str(Path(name).resolve())], cwd=folder,
                              check=False, capture_output=True, env=env, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(name, f"`terraform show -json` could not run ({exc})", SHOW_HINT) from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        msg = err[-1] if err else f"exit code {proc.returncode}"
        raise InputError(name, f"`terraform show -json` failed in {folder}: {msg}",
                         "run it in the root module that made the plan (-C DIR), after `terraform init`")
    return proc.stdout


def load_plan(name: str, workdir: Path | None = None, terraform: str | None = None) -> LoadedPlan:
    data = read_source(name)
    if is_binary_plan(data):
        if name == "-":
            raise InputError(name, "is a binary plan file on standard input", "pass it as a file path, or " + SHOW_HINT)
        data = show_binary(name, workdir, terraform)
    data = normalise_text(name, data)
    plan = decode_plan(name, data)
    folder = None if name == "-" else Path(name).resolve().parent
    # The label is shown in every report: a file name that is not UTF-8 is shown escaped.
    return LoadedPlan(label=printable(name), plan=plan, size=len(data), folder=folder)
