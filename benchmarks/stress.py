"""Check that every rule stays linear, not only TFG001: time the guard on variants of the
generated plans that send the replaced copies down other rules' paths.

    python benchmarks/stress.py [--sizes 1,2] [--rounds 2]

Variants of benchmarks/out/<size>x/plan.json (written by generate.py), each under
benchmarks/out/stress/:
- deferred: the AMI data source is read during apply (`read_because_dependency_pending`,
  `depends_on` two resources), and one stateful resource in 250 is deleted (`for_each` key
  gone): TFG003 and TFG011 report on every copy and deletion;
- resource-chain: `ami` comes from a `for_each` managed resource (every instance is a
  candidate): TFG010 traces through all of them for every copy.
A rule that scans the whole plan once per finding shows here as a time ratio far above the
size ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STRESS = HERE / "out" / "stress"


def _load(path: Path) -> dict:
    with open(path, "rb") as fh:
        return orjson.loads(fh.read())


def _config_block(plan: dict, address: str) -> dict:
    return next(r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == address)


def _seed_parts(plan: dict) -> tuple[str, str]:
    """The replaced instance's block address and the data source its forcing attribute names."""
    rc = next(rc for rc in plan["resource_changes"] if rc["change"].get("replace_paths"))
    block = f"{rc['type']}.{rc['name']}"
    data = next(r["address"] for r in plan["configuration"]["root_module"]["resources"]
                if r["address"].startswith("data.aws_ami."))
    return block, data


def deferred(plan: dict) -> dict:
    block, data = _seed_parts(plan)
    changes = plan["resource_changes"]
    stateful = [rc for rc in changes if rc["type"] in ("aws_s3_bucket", "aws_instance")
                and rc["change"]["actions"] == ["no-op"]]
    for rc in stateful[: len(changes) // 250]:
        rc["change"].update(actions=["delete"], after=None)
        rc["action_reason"] = "delete_because_each_key"
    root = plan["prior_state"]["values"]["root_module"]
    root["resources"] = [r for r in root["resources"] if r["address"] != data]
    _, dtype, dname = data.split(".")
    changes.insert(0, {"address": data, "mode": "data", "type": dtype, "name": dname,
                       "change": {"actions": ["read"], "before": None, "after": {}, "after_unknown": {"id": True},
                                  "before_sensitive": False, "after_sensitive": {}},
                       "action_reason": "read_because_dependency_pending"})
    cfg = _config_block(plan, data)
    cfg["depends_on"] = ["aws_security_group.svc", "module.team"]
    cfg["expressions"]["most_recent"] = {"constant_value": False}
    return plan


def resource_chain(plan: dict) -> dict:
    block, _ = _seed_parts(plan)
    _config_block(plan, block)["expressions"]["ami"] = {
        "references": ["aws_security_group.svc.id", "aws_security_group.svc"]}
    return plan


VARIANTS = {"deferred": deferred, "resource-chain": resource_chain}


def run(plan: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "guard", "check", str(plan), "--format", "json",
                           "--fail-on", "never"], capture_output=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"stress.py: the guard exited {proc.returncode} on {plan}:\n{proc.stderr.decode()[-2000:]}")
    return elapsed, len(orjson.loads(proc.stdout)["findings"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,2")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    scales = [float(s) for s in args.sizes.split(",")]
    STRESS.mkdir(parents=True, exist_ok=True)
    paths = {}
    for s in scales:
        base = HERE / "out" / f"{s:g}x" / "plan.json"
        if not base.is_file():
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--scale", f"{s:g}"], check=True)
        for name, make in VARIANTS.items():
            out = STRESS / f"{name}-{s:g}x.json"
            out.write_bytes(orjson.dumps(make(_load(base))))
            paths[(name, s)] = out
    best: dict[tuple[str, float], float] = {}
    found: dict[tuple[str, float], int] = {}
    for _ in range(args.rounds):
        for key, path in paths.items():
            elapsed, n = run(path)
            best[key] = min(best.get(key, elapsed), elapsed)
            found[key] = n
    status = 0
    for name in VARIANTS:
        line = [f"{name:>15}:"]
        for s in scales:
            line.append(f"{s:g}x {best[(name, s)]:.2f} s ({found[(name, s)]} findings)")
        t0, t1 = best[(name, scales[0])], best[(name, scales[-1])]
        ratio = (t1 / t0) / (scales[-1] / scales[0])
        line.append(f"time grows {t1 / t0:.2f}x for {scales[-1] / scales[0]:g}x the plan")
        print("  ".join(line))
        if ratio > 1.5:
            print(f"  SUPERLINEAR: {name}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
