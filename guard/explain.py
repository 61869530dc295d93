"""`replace-guard explain PLAN ADDRESS`: the whole story of one resource, from the same analysis
`check` makes (the same config, the same causes, the same redaction)."""

from __future__ import annotations

from pathlib import Path

from .analyze import analyze
from .config import Config
from .errors import InputError
from .findings import action_words
from .format.base import RenderOptions
from .format.text import TextFormat, _painter, chain_lines, one_line
from .load import load_plan
from .values import path_text

MAX_CHAINS = 5


def explain_address(plan_name: str, address: str, directory: Path | None, terraform: str | None,
                    color: bool, config: Config | None = None) -> tuple[str, bool]:
    workdir = Path(directory) if directory else None
    loaded = load_plan(plan_name, workdir, terraform)
    report = analyze([loaded], config or Config(), workdir, "never")
    an = report.analyses[0]
    changes = [rc for rc in loaded.plan.changes if rc.full_address == address]
    drift = [rc for rc in loaded.plan.drift if rc.full_address == address]
    if not changes and not drift:
        known = sorted({rc.full_address for rc in loaded.plan.changes})
        hint = ", ".join(known[:5]) + (" ..." if len(known) > 5 else "")
        raise InputError(plan_name, f"has no resource {address!r}",
                         f"give an address from the plan{': ' + hint if hint else ''}")
    c = _painter(color)
    lines = [c("bold", one_line(address))]
    for rc in drift:
        lines.append(f"  changed outside Terraform: {one_line(', '.join(rc.actions))}")
    for rc in changes:
        lines.append(f"  action:  {one_line(action_words(rc.actions))}"
                     + (f" [{one_line(rc.action_reason)}]" if rc.action_reason else ""))
        if rc.mode != "managed" or rc.actions == ("no-op",):
            continue
        cause = an.cause(rc)
        if cause is not None:
            lines.append(f"  cause:   {cause.kind.value}: {one_line(cause.evidence)}")
        paths = list(cause.paths) if cause is not None and cause.paths else an.engine.forcing_paths(rc)
        if cause is not None and not paths and cause.chain:
            lines.extend(chain_lines(an.chain(cause), c))
        for path in paths:
            sub = an.engine.explain_path(rc, tuple(path))
            b, a = an.shown_pair(rc, path, sub)
            lines.append(f"  {one_line(path_text(path))}: {one_line(b)} -> {one_line(a)}  ({sub.kind.value})")
            chains = [c for c in an.engine.chains(rc, tuple(path)) if not c.dead]
            for chain in chains[:MAX_CHAINS]:
                lines.extend(chain_lines([an.link(h) for h in chain.hops], c))
            if len(chains) > MAX_CHAINS:
                lines.append(f"    ... and {len(chains) - MAX_CHAINS} more chain(s)")
    mine = [f for f in report.findings if f.address == address]
    allowed = [f for f in report.suppressed if f.address == address]
    if mine:
        lines.append("")
        sub_report = type(report)(findings=mine, plans=report.plans, fail_on="never")
        lines.append(TextFormat().render(sub_report, RenderOptions(color=color)).rstrip("\n"))
    elif allowed:
        for f in allowed:
            lines.append(f"  {f.rule}: allowed by {one_line(f.allowed_by or '')}")
    else:
        lines.append("  no rule finds anything to object to here")
    return "\n".join(lines) + "\n", True
