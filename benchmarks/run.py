"""Time the guard on large plans against two floors: orjson parsing the file, and jq.

    python benchmarks/run.py [--sizes 1,2,4] [--shapes findings] [--rounds 3]

For each size (1 = about 50 MB / 25,000 resources, grown by generate.py from the AMI-drift
seed, 100 findings per 1x) and each named shape (findings: 20,000 findings beside 80,000
unchanged resources, generate.py --shape findings) it runs, each in a fresh process:
- guard:  python -m guard check PLAN --format json > /dev/null   (exit 1 expected: it finds the
          replacements)
- orjson: python -c 'import orjson,sys; orjson.loads(open(sys.argv[1],"rb").read())' PLAN
- jq:     jq '[.resource_changes[] | select(.change.actions|index("delete"))] | length' PLAN

Runs are interleaved (every round runs every size and tool, in a rotating order) and the best
wall time of the rounds is kept, which copes with a noisy shared machine. Peak memory is the
child's ru_maxrss (os.wait4), the highest seen over the rounds. Targets, checked at the
largest size (400 findings) and on every named shape (20,000 findings): guard <= 0.6x orjson,
<= 0.5x jq, peak <= 2x the file. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/ is not a package)

JQ_FILTER = '[.resource_changes[] | select(.change.actions|index("delete"))] | length'
ORJSON_CODE = 'import orjson,sys; orjson.loads(open(sys.argv[1],"rb").read())'
TARGET_ORJSON = 0.6
TARGET_JQ = 0.5
TARGET_MEMORY = 2.0


@dataclass
class Measure:
    times: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # user + system seconds
    peaks: list[int] = field(default_factory=list)  # bytes

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def cpu(self) -> float:
        return min(self.cpus)

    @property
    def peak(self) -> int:
        return max(self.peaks)


def commands(plan: Path) -> dict[str, tuple[list[str], set[int]]]:
    """Tool name -> (argv, accepted exit codes)."""
    out = {
        "guard": ([sys.executable, "-m", "guard", "check", str(plan), "--format", "json"], {1}),
        "orjson": ([sys.executable, "-c", ORJSON_CODE, str(plan)], {0}),
    }
    jq = shutil.which("jq")
    if jq:
        out["jq"] = ([jq, JQ_FILTER, str(plan)], {0})
    return out


def run_once(argv: list[str], ok: set[int], stdout=subprocess.DEVNULL) -> tuple[float, float, int]:
    """Wall time, CPU time and peak RSS (bytes) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, cwd=REPO)
    # wait4 reports this child's own rusage, unlike RUSAGE_CHILDREN's running maximum.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in ok:
        sys.exit(f"run.py: {' '.join(argv[:4])}... exited {proc.returncode}, expected {sorted(ok)}:\n{err[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # Linux reports KiB


def plan_folder(name: str) -> Path:
    return generate.OUT / name


def ensure_plan(name: str, regenerate: bool) -> tuple[Path, dict]:
    """The plan `name` (`4x`, or a shape such as `findings`), written again when missing or grown
    from another seed.

    Generation runs in a child process: this one stays small, because a child forked from a
    large parent would report the parent's size as its own peak (ru_maxrss is inherited).
    """
    folder = plan_folder(name)
    plan = folder / "plan.json"
    _, _, label = generate.seed_plan(None)
    meta = generate.read_meta(folder)
    if regenerate or not plan.is_file() or meta is None or meta.get("seed") != label:
        print(f"generating {plan.relative_to(REPO)} ...", flush=True)
        how = ["--shape", name] if name in generate.SHAPES else ["--scale", name.rstrip("x")]
        subprocess.run([sys.executable, str(HERE / "generate.py"), *how], check=True, cwd=REPO)
        meta = generate.read_meta(folder)
    return plan, meta


def sanity(plan: Path) -> tuple[int, int]:
    """The guard's finding count and jq's delete count (one untimed run each).

    The report (88 MB for 20,000 findings) is counted in a child process too: parsed here, it
    would raise this process's peak, which every later child inherits as its own ru_maxrss.
    """
    import tempfile

    with tempfile.TemporaryFile() as out:
        proc = subprocess.run([sys.executable, "-m", "guard", "check", str(plan), "--format", "json"],
                              stdout=out, stderr=subprocess.PIPE, cwd=REPO)
        if proc.returncode != 1:
            sys.exit(f"run.py: the guard exited {proc.returncode} on {plan} (expected 1):\n"
                     f"{proc.stderr.decode()[-2000:]}")
        out.seek(0)
        count = subprocess.run([sys.executable, "-c", "import json,sys; print(len(json.load(sys.stdin)['findings']))"],
                               stdin=out, capture_output=True, check=True)
    found = int(count.stdout)
    jq = shutil.which("jq")
    deletes = int(subprocess.run([jq, JQ_FILTER, str(plan)], capture_output=True, check=True).stdout) if jq else -1
    return found, deletes


def versions() -> str:
    import msgspec

    parts = [f"Python {platform.python_version()}", f"msgspec {msgspec.__version__}"]
    try:
        import orjson

        parts.append(f"orjson {orjson.__version__}")
    except ImportError:
        parts.append("orjson missing (pip install -e '.[bench]')")
    jq = shutil.which("jq")
    if jq:
        parts.append(subprocess.run([jq, "--version"], capture_output=True, text=True).stdout.strip())
    return ", ".join(parts)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,2,4", help="comma-separated scales (1 = about 50 MB); '' for none")
    ap.add_argument("--shapes", default="findings",
                    help=f"comma-separated named shapes ({', '.join(generate.SHAPES)}); '' for none")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each tool on each plan; the best is kept")
    ap.add_argument("--regenerate", action="store_true", help="write the plans again even when present")
    ap.add_argument("--markdown", action="store_true", help="also print the table as markdown rows")
    args = ap.parse_args(argv)
    scales = sorted(float(s) for s in args.sizes.split(",") if s.strip())
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for shape in shapes:
        if shape not in generate.SHAPES:
            ap.error(f"no shape {shape!r}; known: {', '.join(generate.SHAPES)}")
    names = [f"{s:g}x" for s in scales] + shapes
    if not names:
        ap.error("nothing to measure: give --sizes or --shapes")
    try:
        import orjson  # noqa: F401
    except ImportError:
        print("run.py: orjson is missing: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    plans, info = {}, {}
    meta: dict = {}
    for name in names:
        plans[name], meta = ensure_plan(name, args.regenerate)
        found, deletes = sanity(plans[name])
        info[name] = (plans[name].stat().st_size, meta["resources"], found, deletes)
    print(f"machine: {machine()}")
    print(f"tools:   {versions()}")
    print(f"seed:    {meta['seed']}")
    print(f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB peak "
          "(a child's ru_maxrss cannot be below its parent's size at fork)")

    results: dict[tuple[str, str], Measure] = {}
    jobs = [(n, tool, cmd) for n, plan in plans.items() for tool, cmd in commands(plan).items()]
    for r in range(args.rounds):
        shift = r % len(jobs)
        for n, tool, (argv_, ok) in jobs[shift:] + jobs[:shift]:
            elapsed, cpu, peak = run_once(argv_, ok)
            m = results.setdefault((n, tool), Measure())
            m.times.append(elapsed)
            m.cpus.append(cpu)
            m.peaks.append(peak)
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    has_jq = any(tool == "jq" for _, tool, _ in jobs)
    print()
    head = (f"{'plan':>9} {'file MB':>8} {'resources':>9} {'findings':>8} {'guard s':>8} {'cpu s':>6} "
            f"{'orjson s':>8} {'jq s':>7} {'g/orjson':>8} {'g/jq':>6} {'guard MB':>8} {'peak/file':>9} "
            f"{'orjson MB':>9} {'jq MB':>7}")
    print(head)
    print("-" * len(head))
    failed = []
    for n in names:
        size, count, found, deletes = info[n]
        g, o = results[(n, "guard")], results[(n, "orjson")]
        j = results.get((n, "jq"))
        rj = g.best / j.best if j else float("nan")
        print(f"{n:>9} {size / 1e6:>8.1f} {count:>9,} {found:>8,} {g.best:>8.2f} {g.cpu:>6.2f} {o.best:>8.2f} "
              f"{(j.best if j else float('nan')):>7.2f} {g.best / o.best:>8.2f} {rj:>6.2f} {g.peak / 1e6:>8.0f} "
              f"{g.peak / size:>9.2f} {o.peak / 1e6:>9.0f} {(j.peak / 1e6 if j else float('nan')):>7.0f}")
        if found != deletes and deletes >= 0:
            print(f"  note: on {n} the guard reported {found} findings where jq counts {deletes} deletes")
    print()
    # Linear growth: each step adds the same time and memory per extra MB of plan (a fixed start-up
    # cost, imports and the .tf files a chain reads, makes the whole-run ratio look better still).
    # CPU time (user + system) shows it better than wall time on a busy machine.
    sized = [f"{s:g}x" for s in scales]
    for a, b in zip(sized, sized[1:], strict=False):
        extra = (info[b][0] - info[a][0]) / 1e6
        ga, gb = results[(a, "guard")], results[(b, "guard")]
        print(f"growth {a} -> {b}: file x{info[b][0] / info[a][0]:.2f}, guard time x{gb.best / ga.best:.2f}, "
              f"CPU x{gb.cpu / ga.cpu:.2f} (+{(gb.cpu - ga.cpu) * 1000 / extra:.1f} ms per extra MB), "
              f"guard peak x{gb.peak / ga.peak:.2f} "
              f"(+{(gb.peak - ga.peak) / 1e6 / extra:.2f} MB per extra MB)")

    checked = ([sized[-1]] if sized else []) + shapes
    if not has_jq:
        print("jq not found: its comparison is left out")
    for n in checked:
        g, o, j = results[(n, "guard")], results[(n, "orjson")], results.get((n, "jq"))
        size = info[n][0]
        checks = [(f"guard <= {TARGET_ORJSON}x orjson", g.best / o.best, TARGET_ORJSON),
                  (f"peak memory <= {TARGET_MEMORY}x the file", g.peak / size, TARGET_MEMORY)]
        if j:
            checks.insert(1, (f"guard <= {TARGET_JQ}x jq", g.best / j.best, TARGET_JQ))
        print(f"targets on {n} ({size / 1e6:.0f} MB, {info[n][2]:,} findings):")
        for label, value, limit in checks:
            ok = value <= limit
            print(f"  {'ok  ' if ok else 'MISS'} {label}: {value:.2f}")
            if not ok:
                failed.append(f"{n}: {label}")
    for line in failed:
        print(f"FAILED: {line}")
    if args.markdown:
        print("\nmarkdown rows (README bench section):")
        for n in names:
            size, count, found, _ = info[n]
            g, o, j = results[(n, "guard")], results[(n, "orjson")], results.get((n, "jq"))
            jq_s = f"{j.best:.2f} s" if j else "n/a"
            jq_r = f"{g.best / j.best:.2f}" if j else "n/a"
            print(f"| {n}, {size / 1e6:.0f} MB | {count:,} | {found:,} | {g.best:.2f} s ({g.cpu:.2f} s CPU) | "
                  f"{o.best:.2f} s | {jq_s} | {g.best / o.best:.2f} | {jq_r} | {g.peak / 1e6:.0f} MB | "
                  f"{g.peak / size:.2f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
