"""Property-based hardness: real corpus plans, mutated, never crash the guard.

Each example takes a real plan from the shared corpus, drops, retypes or nests some of its
fields (biased towards the fields the guard reads), and runs `check` in-process, in a report
format drawn from guard.format.FORMATS. The guard may accept the plan (exit 0 or 1) or refuse
it (exit 2 with a message); it may never raise.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.cli import cli
from guard.format import FORMATS

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "plans"
MAX_PLAN_BYTES = 48_000
PLANS = sorted(p for p in CORPUS.rglob("*.json") if p.stat().st_size <= MAX_PLAN_BYTES) if CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not PLANS, reason=f"the plan corpus is not at {CORPUS}")


def _plans_with_work() -> list[Path]:
    """Plans the rules have something to say about: deletions, replacements, drift (MANIFEST.tsv),
    and the real AMI-drift example; half the examples start from one of these."""
    import csv

    out = []
    manifest = CORPUS / "MANIFEST.tsv"
    if manifest.is_file():
        with open(manifest, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                path = CORPUS / row["path"]
                if path in PLANS and (int(row["n_with_delete_action"] or 0) or row["has_resource_drift"] == "y"):
                    out.append(path)
    example = Path(__file__).resolve().parents[1] / "examples" / "ami-drift" / "plan.json"
    if example.is_file():
        out.append(example)
    return sorted(out) or PLANS


BUSY_PLANS = _plans_with_work() if PLANS else []

# Keys the guard reads somewhere; mutations prefer them.
FOCUS = frozenset("""
format_version terraform_version variables value resource_changes resource_drift change actions
before after after_unknown before_sensitive after_sensitive replace_paths address module_address mode
type name index deposed previous_address action_reason provider_name prior_state values root_module
resources child_modules sensitive_values planned_values configuration provider_config module_calls
module source expressions references constant_value count_expression for_each_expression depends_on
outputs expression sensitive default errored complete
""".split())  # noqa: SIM905 - a word list reads better as text

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**63, 1.5, "", "x", "delete", "data", "managed", "no-op",
    "module.x", 'a"b]\\.c[', "\x1b[31mred\x1b[0m\r\n::error::x", "data.aws_ami.x.id",
    [], {}, [None], [[["deep"]]], {"references": None}, {"constant_value": {"a": [1]}},
    ["delete", "create"], [["ami"]], [[0, "x", None]], {"": {"": {}}},
]

SETTINGS = settings(
    max_examples=int(os.environ.get("GUARD_FUZZ_EXAMPLES", "120")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),  # the same examples on every CI run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_cache: dict[Path, Any] = {}


def load(path: Path) -> Any:
    if path not in _cache:
        _cache[path] = json.loads(path.read_bytes().decode("utf-8-sig"))
    return _cache[path]


def node_paths(doc: Any, max_depth: int = 9) -> list[tuple]:
    """Paths to every node below the root, up to max_depth."""
    out: list[tuple] = []
    stack: list[tuple[tuple, Any]] = [((), doc)]
    while stack:
        path, node = stack.pop()
        if len(path) >= max_depth:
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            sub = path + (key,)
            out.append(sub)
            stack.append((sub, child))
    out.sort(key=lambda p: [str(s) for s in p])
    return out


def focused(path: tuple) -> bool:
    return any(isinstance(step, str) and step in FOCUS for step in path[-2:])


def parent_of(doc: Any, path: tuple) -> Any:
    node = doc
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated_plans(draw) -> tuple[str, bytes, list[str]]:
    plan_path = draw(st.sampled_from(BUSY_PLANS) | st.sampled_from(PLANS))
    doc = copy.deepcopy(load(plan_path))
    log = []
    for _ in range(draw(st.integers(1, 4))):
        paths = node_paths(doc)
        if not paths:
            break
        hot = [p for p in paths if focused(p)]
        pool = hot if hot and draw(st.integers(0, 9)) < 8 else paths
        path = draw(st.sampled_from(pool))
        parent, key = parent_of(doc, path), path[-1]
        op = draw(st.sampled_from(["drop", "retype", "nest", "odd-key"]))
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif op == "nest":
            wrap = draw(st.sampled_from(["list", "dict", "deep"]))
            value = parent[key]
            parent[key] = [value] if wrap == "list" else {"x": value} if wrap == "dict" else [[[[value]]]]
        elif isinstance(parent, dict):  # odd-key: a sibling with an unexpected name
            parent[draw(st.sampled_from(["", "actions", "address", 'k"]', "\u202e"]))] = parent[key]
        log.append(f"{op} {'/'.join(map(str, path))}")
    name = str(plan_path.relative_to(CORPUS)) if plan_path.is_relative_to(CORPUS) else plan_path.name
    return name, json.dumps(doc).encode("utf-8"), log


def run_check(content: bytes, fmt: str):
    result = CliRunner().invoke(cli, ["check", "-", "--format", fmt], input=content)
    return result


def assert_handled(result, context: str) -> None:
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        pytest.fail(f"{context}: raised {type(exc).__name__}: {exc}\n{detail}")
    assert result.exit_code in (0, 1, 2), (context, result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        err = result.stderr
        assert err.startswith("replace-guard: error: -: "), (context, err)
        assert "internal error" not in err, (context, err)


@SETTINGS
@given(case=mutated_plans(), fmt=st.sampled_from(sorted(FORMATS)))
def test_mutated_corpus_plan_never_crashes(case, fmt):
    name, content, log = case
    result = run_check(content, fmt)
    assert_handled(result, f"{name} [{', '.join(log)}] --format {fmt}")


@SETTINGS
@given(plan=st.sampled_from(PLANS) if PLANS else st.nothing(), data=st.data())
def test_damaged_bytes_never_crash(plan, data):
    raw = bytearray(plan.read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    at = data.draw(st.integers(0, max(0, len(raw) - 1)))
    if how == "truncate":
        del raw[at:]
    elif how == "flip":
        raw[at] = data.draw(st.integers(0, 255))
    elif how == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    elif raw:
        del raw[at:at + data.draw(st.integers(1, 64))]
    result = run_check(bytes(raw), "json")
    assert_handled(result, f"{plan.relative_to(CORPUS)} {how} at {at}")


ACTION_LISTS = [["no-op"], ["delete", "create"], ["create", "delete"], ["delete"], ["update"], ["create"]]


@SETTINGS
@given(plan=st.sampled_from(BUSY_PLANS) if PLANS else st.nothing(), data=st.data())
def test_duplicated_actions_are_read_like_python(plan, data):
    """A change object that names `actions` twice (plainly or with a letter escaped) is read as
    Python and jq read it, the last one counting, also when the first reads like Terraform's
    compact no-op (`{"actions":["no-op"],...`), the shape the loader recognises without a decode."""
    doc = copy.deepcopy(load(plan))
    changes = [rc for rc in doc.get("resource_changes") or [] if isinstance(rc.get("change"), dict)]
    if not changes:
        return
    target = data.draw(st.sampled_from(changes))
    first = data.draw(st.sampled_from(ACTION_LISTS))
    last = data.draw(st.sampled_from(ACTION_LISTS))
    key = data.draw(st.sampled_from(['"actions"', '"\\u0061ctions"', '"act\\u0069ons"']))
    change = {k: v for k, v in target["change"].items() if k != "actions"}
    rest = json.dumps(change, separators=(",", ":"))[1:-1]
    text = ('{"actions":' + json.dumps(first, separators=(",", ":")) + ("," + rest if rest else "")
            + f",{key}:" + json.dumps(last, separators=(",", ":")) + "}")
    target["change"] = "@@change@@"
    content = json.dumps(doc, separators=(",", ":")).replace('"@@change@@"', text, 1).encode()
    python = json.loads(content)
    assert next(rc for rc in python["resource_changes"] if rc.get("change", {}).get("actions") == last)
    managed = [rc for rc in python["resource_changes"] if rc.get("mode") == "managed"]
    deletes = sum(1 for rc in managed if "delete" in [a.lower() for a in rc["change"]["actions"]])
    result = run_check(content, "json")
    assert_handled(result, f"{plan.name}: actions {first} then {key} {last}")
    assert result.exit_code in (0, 1), result.output[-2000:]
    assert json.loads(result.stdout)["plans"][0]["delete"] == deletes
