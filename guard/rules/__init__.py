"""The rule catalogue, and the one place that decides which rule reports a replacement.

A new rule is one module here plus its tests: add it to `ALL_RULES`, and if it reports
replacements by their cause, put its id in `REPLACEMENT_PRECEDENCE` where it should win.
"""

from __future__ import annotations

from typing import Iterable

from ..analysis import Analysis
from ..findings import Finding
from .base import Claimed, Rule
from .tfg001_ami_drift import AmiDrift
from .tfg002_data_source_drift import DataSourceDrift
from .tfg003_deferred_read import DeferredRead
from .tfg004_vanished import VanishedResource
from .tfg010_stateful_replacement import StatefulReplacement
from .tfg011_stateful_deletion import StatefulDeletion
from .tfg020_launch_template import LaunchTemplateDrift

ALL_RULES: tuple[Rule, ...] = (
    AmiDrift(),
    DataSourceDrift(),
    DeferredRead(),
    VanishedResource(),
    StatefulReplacement(),
    StatefulDeletion(),
    LaunchTemplateDrift(),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}

# Which rule reports a replaced resource: the first in this order whose `claims()` accepts the
# cause the engine found. Specific before general: a read deferred to apply, then the image story,
# then any other drift, then the stateful-replacement catch-all (code changes, taint, -replace,
# triggers, and causes not proven to be asked for).
REPLACEMENT_PRECEDENCE: tuple[str, ...] = ("TFG003", "TFG001", "TFG002", "TFG010")


def run_rules(an: Analysis, enabled: Iterable[Rule] | None = None) -> Iterable[Finding]:
    """Every finding for one plan: replacements go to their rule, then each rule runs."""
    rules = list(enabled) if enabled is not None else list(ALL_RULES)
    active = {rule.id for rule in rules}
    claimed: dict[str, Claimed] = {rule.id: [] for rule in rules}
    order = [RULES_BY_ID[r] for r in REPLACEMENT_PRECEDENCE if r in RULES_BY_ID]
    for rc in an.replacements:
        if an.address(rc) is None:
            continue
        cause = an.cause(rc)
        if cause is None:
            continue
        for rule in order:
            if rule.claims(an, rc, cause):
                if rule.id in active:
                    claimed[rule.id].append((rc, cause))
                break
    for rule in rules:
        yield from rule.check(an, claimed[rule.id])


__all__ = ["ALL_RULES", "REPLACEMENT_PRECEDENCE", "RULES_BY_ID", "Rule", "run_rules"]
