"""The same plans give byte-identical reports in every format, from one process to the next.

Two separate processes, with different hash seeds (set and dict order built on string hashes
changes between them), write every format in guard.format.FORMATS; the files must match.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from handmade import ami_drift_plan

from guard.format import FORMATS

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "plans"


def corpus_plans_with_deletes(n: int) -> list[Path]:
    """The corpus plans with the most deleting changes (several findings, several rules)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    rows = [r for r in rows if (CORPUS / r["path"]).is_file() and int(r["bytes"]) < 400_000]
    rows.sort(key=lambda r: (-int(r["n_with_delete_action"]), r["has_replace_paths"] != "y", r["path"]))
    return [CORPUS / r["path"] for r in rows[:n]]


def render_all(plans: list[Path], out: Path, hash_seed: str, cwd: Path) -> dict[str, bytes]:
    out.mkdir()
    args = [sys.executable, "-m", "guard", "check", *map(str, plans), "--fail-on", "never", "--format", "text"]
    for fmt in sorted(FORMATS):
        args += ["--output", f"{fmt}={out / fmt}"]
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(args, capture_output=True, cwd=cwd, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    files = {fmt: (out / fmt).read_bytes() for fmt in sorted(FORMATS)}
    files["stdout"] = proc.stdout
    return files


def test_every_format_is_byte_identical_across_processes(tmp_path: Path):
    handmade = []
    for i, kw in enumerate([{}, {"address": 'module.app["blue"].aws_instance.this', "module": "app"},
                            {"address": 'aws_instance.app["b"]'}, {"address": 'aws_instance.app["a"]'}]):
        path = tmp_path / f"handmade-{i}.json"
        path.write_text(json.dumps(ami_drift_plan(**kw)), encoding="utf-8")
        handmade.append(path)
    plans = handmade + corpus_plans_with_deletes(4)
    first = render_all(plans, tmp_path / "a", "1", tmp_path)
    second = render_all(plans, tmp_path / "b", "2", tmp_path)
    assert set(first) == set(second)
    for fmt in first:
        assert first[fmt], f"{fmt}: empty report"
        assert first[fmt] == second[fmt], f"{fmt}: the two runs differ"
    # The reports found something to order.
    assert json.loads(first["json"])["findings"]
