"""Run the rules over loaded plans and collect one report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .config import AllowEntry, Config, apply_allows
from .context import Context, is_replace
from .findings import FAIL_LEVELS, Finding, Severity
from .graph import Graph
from .load import LoadedPlan
from .rules import ALL_RULES
from .sources import SourceTree
from .stateful import DEFAULT_STATEFUL_TYPES


@dataclass
class PlanSummary:
    label: str
    terraform_version: str | None
    format_version: str
    create: int = 0
    update: int = 0
    delete: int = 0
    replace: int = 0
    forget: int = 0
    errored: bool = False
    sources: str | None = None  # the folder read for .tf sources, if any


@dataclass
class Report:
    findings: list[Finding]
    plans: list[PlanSummary]
    fail_on: str = "error"
    suppressed: list[Finding] = field(default_factory=list)
    expired_allows: list[AllowEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def failing(self) -> list[Finding]:
        level = FAIL_LEVELS[self.fail_on]
        return [f for f in self.findings if f.severity.rank >= level]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def exit_code(self) -> int:
        return 1 if self.failing() else 0


def has_tf_files(folder: Path | None) -> bool:
    try:
        return folder is not None and folder.is_dir() and any(folder.glob("*.tf"))
    except OSError:
        return False


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
                    sources=str(root) if root else None)
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
    for loaded in plans:
        root = source_root(source_dir, loaded)
        sources = SourceTree(root.resolve() if root else None)
        ctx = Context(plan=loaded.plan, plan_label=loaded.label, graph=Graph(loaded.plan, sources),
                      stateful_types=stateful)
        summaries.append(summarize(loaded, root))
        if loaded.plan.errored:
            notes.append(f"{loaded.label}: the plan errored (errored: true); it may be incomplete")
        for rule in ALL_RULES:
            level = config.severity.get(rule.id)
            if level == "off":
                continue
            for finding in rule.check(ctx):
                if level:
                    finding.severity = Severity(level)
                findings.append(finding)
        notes.extend(sources.errors)

    allowed = apply_allows(findings, list(config.allow) + list(extra_allows or []), today)
    kept, suppressed, expired = allowed.kept, allowed.suppressed, allowed.expired
    notes.extend(allowed.notes)
    kept.sort(key=Finding.sort_key)
    suppressed.sort(key=Finding.sort_key)
    return Report(findings=kept, plans=summaries, fail_on=fail_on, suppressed=suppressed,
                  expired_allows=expired, notes=notes)
