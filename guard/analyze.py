"""Run the rules over loaded plans and collect one report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from .analysis import Analysis
from .config import AllowEntry, Config, apply_allows
from .errors import printable
from .findings import Finding, Severity
from .load import LoadedPlan
from .plan_index import is_replace
from .report import PlanSummary, Report
from .rules import ALL_RULES, run_rules
from .sources import SourceTree
from .stateful import DEFAULT_STATEFUL_TYPES


def has_tf_files(folder: Path | None) -> bool:
    """Whether a folder holds Terraform or OpenTofu files (.tf, .tofu, their .json forms)."""
    from .sources import has_config_files

    return has_config_files(folder)


def source_root(explicit: Path | None, loaded: LoadedPlan) -> Path | None:
    """-C DIR; else the current directory, else the plan's folder, when it holds .tf files."""
    if explicit is not None:
        return explicit
    cwd = Path.cwd()
    if has_tf_files(cwd):
        return cwd
    if has_tf_files(loaded.folder):
        return loaded.folder
    return None


def config_root(explicit: Path | None, plan_folders: list[Path | None]) -> Path:
    """Where the config file search starts (it then goes up to the repository root): the folder the
    .tf sources are read from (-C DIR, else the current folder when it holds .tf files, else the
    plans' folder when they share one that does), else the current folder."""
    if explicit is not None:
        return explicit
    cwd = Path.cwd()
    if has_tf_files(cwd):
        return cwd
    folders = {f for f in plan_folders if f is not None and has_tf_files(f)}
    return folders.pop() if len(folders) == 1 else cwd


def summarize(loaded: LoadedPlan, root: Path | None) -> PlanSummary:
    plan = loaded.plan
    s = PlanSummary(label=loaded.label, terraform_version=plan.terraform_version,
                    format_version=plan.format_version, errored=bool(plan.errored),
                    sources=printable(str(root)) if root else None)
    # Count each distinct action list once: a large plan has 100,000 changes and a few kinds.
    kinds = Counter(rc.actions for rc in plan.changes if rc.mode == "managed")
    for acts, n in kinds.items():
        if is_replace(acts):
            s.replace += n
        if "create" in acts:
            s.create += n
        if "update" in acts:
            s.update += n
        if "delete" in acts:
            s.delete += n
        if "forget" in acts:
            s.forget += n
    return s


def analyze(plans: list[LoadedPlan], config: Config, source_dir: Path | None = None,
            fail_on: str = "error", extra_allows: list[AllowEntry] | None = None,
            today: dt.date | None = None) -> Report:
    today = today or dt.date.today()
    stateful = frozenset(DEFAULT_STATEFUL_TYPES | set(config.stateful_types))
    findings: list[Finding] = []
    summaries: list[PlanSummary] = []
    notes: list[str] = []
    analyses: list[Analysis] = []
    enabled = [rule for rule in ALL_RULES if config.severity.get(rule.id) != "off"]
    for loaded in plans:
        root = source_root(source_dir, loaded)
        sources = SourceTree(root.resolve() if root else None)
        an = Analysis.build(loaded.label, loaded.plan, sources, stateful)
        analyses.append(an)
        summaries.append(summarize(loaded, root))
        if loaded.plan.errored:
            notes.append(f"{loaded.label}: the plan errored (errored: true); it may be incomplete")
        for finding in run_rules(an, enabled):
            level = config.severity.get(finding.rule)
            if level:
                finding.severity = Severity(level)
            findings.append(finding)
        notes.extend(sources.errors)
        if an.engine.cut:
            notes.append(f"{loaded.label}: some values have more than {64} sources; the chains list the first 64")

    allowed = apply_allows(findings, list(config.allow) + list(extra_allows or []), today)
    kept, suppressed, expired = allowed.kept, allowed.suppressed, allowed.expired
    notes.extend(allowed.notes)
    kept.sort(key=Finding.sort_key)
    suppressed.sort(key=Finding.sort_key)
    return Report(findings=kept, plans=summaries, fail_on=fail_on, suppressed=suppressed,
                  expired_allows=expired, notes=notes, analyses=analyses)
