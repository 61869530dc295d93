"""`replace-guard explain PLAN ADDRESS`: the whole story of one resource."""

from __future__ import annotations

from pathlib import Path

from .analyze import analyze
from .config import Config
from .context import Context, path_text
from .errors import InputError
from .findings import action_words
from .format.base import RenderOptions
from .format.text import TextFormat, _painter, chain_lines, one_line
from .load import load_plan


def explain_address(plan_name: str, address: str, directory: Path | None, terraform: str | None,
                    color: bool) -> tuple[str, bool]:
    workdir = Path(directory) if directory else None
    loaded = load_plan(plan_name, workdir, terraform)
    report = analyze([loaded], Config(), workdir, "never")
    changes = [rc for rc in loaded.plan.changes if rc.full_address == address]
    drift = [rc for rc in loaded.plan.drift if rc.full_address == address]
    if not changes and not drift:
        known = sorted({rc.full_address for rc in loaded.plan.changes})
        hint = ", ".join(known[:5]) + (" ..." if len(known) > 5 else "")
        raise InputError(plan_name, f"has no resource {address!r}",
                         f"give an address from the plan{': ' + hint if hint else ''}")
    from .analyze import source_root
    from .graph import Graph
    from .sources import SourceTree

    root = source_root(workdir, loaded)
    graph = Graph(loaded.plan, SourceTree(root.resolve() if root else None))
    ctx = Context(plan=loaded.plan, plan_label=plan_name, graph=graph, stateful_types=frozenset())
    c = _painter(color)
    lines = [c("bold", one_line(address))]
    for rc in drift:
        lines.append(f"  changed outside Terraform: {', '.join(rc.actions)}")
    for rc in changes:
        lines.append(f"  action:  {action_words(rc.actions)}" + (f" [{rc.action_reason}]" if rc.action_reason else ""))
        paths = ctx.replace_paths(rc)
        if not paths and rc.mode == "managed":
            before = ctx.change_part(rc, "before") or {}
            after = ctx.change_part(rc, "after") or {}
            if isinstance(before, dict) and isinstance(after, dict):
                paths = [[k] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        for path in paths:
            b, a = ctx.shown_pair(rc, path)
            lines.append(f"  {one_line(path_text(path))}: {one_line(b)} -> {one_line(a)}")
            for chain in graph.trace(rc.full_address, path):
                lines.extend(chain_lines(chain, c))
    mine = [f for f in report.findings if f.address == address]
    if mine:
        lines.append("")
        sub = type(report)(findings=mine, plans=report.plans, fail_on="never")
        lines.append(TextFormat().render(sub, RenderOptions(color=color)).rstrip("\n"))
    else:
        lines.append("  no rule finds anything to object to here")
    return "\n".join(lines) + "\n", True
