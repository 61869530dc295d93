"""OpenTofu: `tofu show -json` plans are read like Terraform's.

The shared corpus (`../shared/corpus/plans`, or $REPLACE_GUARD_CORPUS) holds real plans from the
opentofu/opentofu repository, listed in its MANIFEST.tsv. Each is checked as a user would check
it: the command ends with exit 0 or 1 (never 2, never an internal error), the text report names
the plan, and the JSON report agrees with the plan (versions, counts, addresses, verdict).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli


def _corpus() -> Path:
    explicit = os.environ.get("REPLACE_GUARD_CORPUS")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "plans"


CORPUS = _corpus()
MANIFEST = CORPUS / "MANIFEST.tsv"


def _tofu_rows() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with open(MANIFEST, newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh, delimiter="\t") if row["source_repo"] == "opentofu/opentofu"]


ROWS = _tofu_rows()


def test_opentofu_plans_are_in_the_corpus():
    if not ROWS:
        pytest.skip(f"the plan corpus (with MANIFEST.tsv) is not at {CORPUS}; set REPLACE_GUARD_CORPUS")
    assert len(ROWS) >= 80
    assert all((CORPUS / row["path"]).is_file() for row in ROWS)


def _counts(plan: dict) -> tuple[int, int]:
    """(replaced, deleted without replacement) among managed resources, as Terraform lists them."""
    replaced = deleted = 0
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode") != "managed":
            continue
        acts = [a.lower() for a in rc["change"]["actions"]]
        if "delete" in acts and "create" in acts:
            replaced += 1
        elif "delete" in acts:
            deleted += 1
    return replaced, deleted


@pytest.mark.parametrize("row", ROWS, ids=[row["path"] for row in ROWS])
def test_opentofu_plan_is_checked(row: dict[str, str]):
    path = CORPUS / row["path"]
    raw = json.loads(path.read_text(encoding="utf-8"))
    replaced, deleted = _counts(raw)
    runner = CliRunner()

    text = runner.invoke(cli, ["check", str(path), "--no-color"])
    assert text.exit_code in (0, 1), text.output
    assert "internal error" not in text.output and "Traceback" not in text.output
    assert str(path) in text.output  # the report names the plan it read

    result = runner.invoke(cli, ["check", str(path), "--format", "json"])
    assert result.exit_code == text.exit_code, result.output
    report = json.loads(result.output)
    (plan,) = report["plans"]
    assert plan["terraform_version"] == raw.get("terraform_version")
    assert (plan["replace"], plan["delete"] - plan["replace"]) == (replaced, deleted)
    assert report["summary"]["exit_code"] == result.exit_code
    assert (report["summary"]["failing"] > 0) == (result.exit_code == 1)
    addresses = {rc.get("address") for rc in raw.get("resource_changes") or []}
    addresses |= {rc.get("address") for rc in raw.get("resource_drift") or []}
    assert all(f["address"] in addresses for f in report["findings"])
