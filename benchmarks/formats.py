"""Every report format on the findings-heavy plan: cost of rendering N and 4N findings, and of the
whole run with each format in a fresh process.

    python benchmarks/formats.py [--plan benchmarks/out/findings/plan.json] [--rounds 3]

Part 1, in this process: the plan is loaded and analysed once (20,000 findings of one root
cause), then each format renders reports cut from it, in two shapes:
- one cause: the first N and the first 4N findings, all in one group (the explanation once,
  then every address);
- N causes: the same findings, each given a root of its own (N groups of one).
CPU time of `render` (best of the rounds, interleaved) gives the ratio 4N/N per format and
shape: linear is 4, the target at most 6 (the growth target of the spec).

Part 2, fresh processes: `python -m guard check PLAN --format F` for every format, wall and CPU
time and peak memory (ru_maxrss) against the file size, best of the rounds.
Exit status 1 when a ratio is above 6.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

FORMATS = ("json", "text", "markdown", "sarif", "junit", "github", "gitlab", "codequality")
TARGET_GROWTH = 6.0


def _report(base, findings):
    from guard.report import Report

    return Report(findings=list(findings), plans=base.plans, fail_on=base.fail_on, notes=list(base.notes),
                  fix_command=base.fix_command, analyses=base.analyses)


def _distinct(findings):
    """The findings, each with a root cause of its own (a group of one)."""
    return [f.model_copy(update={"group": f"{f.group or f.rule}|bench-{i}"}) for i, f in enumerate(findings)]


def render_cpu(fmt: str, report) -> float:
    from guard.format import RenderOptions, get_formatter

    formatter = get_formatter(fmt)
    gc.collect()
    start = time.process_time()
    formatter.render(report, RenderOptions(color=False))
    return time.process_time() - start


def in_process(plan: Path, rounds: int) -> list[tuple[str, str, int, float, float]]:
    from guard.analyze import analyze
    from guard.config import load_config
    from guard.load import load_plan

    gc.disable()  # as the command runs (guard/cli.py)
    loaded = [load_plan(str(plan))]
    full = analyze(loaded, load_config(None, plan.parent), plan.parent)
    big = len(full.findings)
    small = big // 4
    shapes = {
        "one cause": (_report(full, full.findings[:small]), _report(full, full.findings[:small * 4])),
        "N causes": (_report(full, _distinct(full.findings[:small])),
                     _report(full, _distinct(full.findings[:small * 4]))),
    }
    best: dict[tuple[str, str, int], float] = {}
    for r in range(rounds):
        for fmt in FORMATS if r % 2 == 0 else reversed(FORMATS):
            for shape, (rep_n, rep_4n) in shapes.items():
                for size, rep in ((small, rep_n), (small * 4, rep_4n)):
                    cpu = render_cpu(fmt, rep)
                    key = (fmt, shape, size)
                    best[key] = min(best.get(key, cpu), cpu)
    rows = []
    for fmt in FORMATS:
        for shape in shapes:
            rows.append((fmt, shape, small, best[(fmt, shape, small)], best[(fmt, shape, small * 4)]))
    return rows


def fresh(plan: Path, rounds: int) -> dict[str, tuple[float, float, int, int]]:
    """Format -> (best wall s, best CPU s, peak bytes, report bytes) of whole runs."""
    out: dict[str, tuple[float, float, int, int]] = {}
    for r in range(rounds):
        for fmt in FORMATS if r % 2 == 0 else reversed(FORMATS):
            argv = [sys.executable, "-m", "guard", "check", str(plan), "--format", fmt]
            start = time.perf_counter()
            with open(os.devnull, "wb") as sink:
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
                size = 0
                assert proc.stdout is not None
                while chunk := proc.stdout.read(1 << 20):
                    size += len(chunk)
                    sink.write(chunk)
                _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, 1):
                sys.exit(f"formats.py: --format {fmt} exited {code}:\n{err[-2000:]}")
            cpu = usage.ru_utime + usage.ru_stime
            peak = usage.ru_maxrss * 1024
            old = out.get(fmt)
            out[fmt] = (min(wall, old[0]) if old else wall, min(cpu, old[1]) if old else cpu,
                        max(peak, old[2]) if old else peak, size)
    return out


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", type=Path, default=HERE / "out" / "findings" / "plan.json")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-fresh", action="store_true", help="only the in-process render ratios")
    ap.add_argument("--markdown", action="store_true", help="also print the tables as markdown rows")
    args = ap.parse_args(argv)
    plan = args.plan
    if not plan.is_file():
        if plan == HERE / "out" / "findings" / "plan.json":
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--shape", "findings"], check=True, cwd=REPO)
        else:
            sys.exit(f"formats.py: no plan at {plan}")
    size = plan.stat().st_size
    status = 0
    # Fresh processes first: this process grows with the analysis, and children inherit its peak.
    runs = {} if args.skip_fresh else fresh(plan, args.rounds)
    rows = in_process(plan, args.rounds)
    print(f"plan: {plan} ({size / 1e6:.0f} MB)")
    print(f"\n{'format':<12} {'shape':<10} {'N':>6} {'render N':>9} {'render 4N':>10} {'4N/N':>6}")
    for fmt, shape, n, t1, t4 in rows:
        ratio = t4 / t1 if t1 > 0 else float("nan")
        flag = "" if ratio <= TARGET_GROWTH else "  SUPERLINEAR"
        if flag:
            status = 1
        print(f"{fmt:<12} {shape:<10} {n:>6,} {t1:>8.3f}s {t4:>9.3f}s {ratio:>6.2f}{flag}")
    if runs:
        print(f"\n{'format':<12} {'wall s':>7} {'cpu s':>6} {'peak MB':>8} {'peak/file':>9} {'report':>9}")
        for fmt in FORMATS:
            wall, cpu, peak, out = runs[fmt]
            print(f"{fmt:<12} {wall:>7.2f} {cpu:>6.2f} {peak / 1e6:>8.0f} {peak / size:>9.2f} {_size(out):>9}")
    if args.markdown:
        print("\nmarkdown rows:")
        by = {(fmt, shape): (n, t1, t4) for fmt, shape, n, t1, t4 in rows}
        for fmt in FORMATS:
            n, a1, a4 = by[(fmt, "one cause")]
            _, b1, b4 = by[(fmt, "N causes")]
            extra = ""
            if runs:
                wall, cpu, peak, out = runs[fmt]
                extra = f" {wall:.2f} s ({cpu:.2f} s CPU) | {peak / 1e6:.0f} MB ({peak / size:.2f}x) | {_size(out)} |"
            print(f"| {fmt} | {a1:.2f} s -> {a4:.2f} s ({a4 / a1:.1f}x) "
                  f"| {b1:.2f} s -> {b4:.2f} s ({b4 / b1:.1f}x) |{extra}")
    return status


if __name__ == "__main__":
    sys.exit(main())
