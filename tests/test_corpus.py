"""Every real plan of the shared corpus loads and is analysed, in every report format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "plans"
PLANS = sorted(CORPUS.rglob("*.json")) if CORPUS.is_dir() else []


def test_corpus_is_there():
    if not CORPUS.is_dir():
        pytest.skip(f"the plan corpus is not at {CORPUS}")
    assert len(PLANS) == 664


@pytest.mark.parametrize("plan", PLANS, ids=[str(p.relative_to(CORPUS)) for p in PLANS])
def test_corpus_plan_is_analysed(plan: Path, tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(plan), "--format", "json", "--fail-on", "never"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["plans"][0]["plan"] == str(plan)
    raw = json.loads(plan.read_text(encoding="utf-8"))
    managed = [rc for rc in raw.get("resource_changes") or [] if rc.get("mode") == "managed"]
    deletes = sum(1 for rc in managed if "delete" in [a.lower() for a in rc["change"]["actions"]])
    assert report["plans"][0]["delete"] == deletes
    for finding in report["findings"]:
        assert finding["address"] in {rc.get("address") for rc in raw.get("resource_changes") or []} | {
            rc.get("address") for rc in raw.get("resource_drift") or []} or finding["rule"] == "TFG004"
