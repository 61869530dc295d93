"""The rule catalogue, and the one place that decides which rule reports a replacement or an
attribute of an in-place update.

A new rule is one module here plus its tests: add it to `ALL_RULES`; if it reports replacements
by their cause, put its id in `REPLACEMENT_PRECEDENCE` where it should win; if it reports
attributes of updates, put it in `UPDATE_PRECEDENCE`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..analysis import Analysis
from ..findings import Finding
from ..plan_index import is_replace
from .base import Claimed, Rule
from .tfg001_ami_drift import AmiDrift
from .tfg002_data_source_drift import DataSourceDrift
from .tfg003_deferred_read import DeferredRead
from .tfg004_vanished import VanishedResource
from .tfg005_out_of_band_revert import OutOfBandRevert
from .tfg006_unreviewed_deploy import UnreviewedDeploy
from .tfg010_stateful_replacement import StatefulReplacement
from .tfg011_stateful_deletion import StatefulDeletion
from .tfg012_perpetual_replacement import PerpetualReplacement
from .tfg020_launch_template import LaunchTemplateDrift
from .tfg021_hidden_replacement import HiddenReplacement

ALL_RULES: tuple[Rule, ...] = (
    AmiDrift(),
    DataSourceDrift(),
    DeferredRead(),
    VanishedResource(),
    OutOfBandRevert(),
    UnreviewedDeploy(),
    StatefulReplacement(),
    StatefulDeletion(),
    PerpetualReplacement(),
    LaunchTemplateDrift(),
    HiddenReplacement(),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}

# Which rule reports a replaced resource: the first in this order whose `claims()` accepts the
# cause the engine found. Specific before general:
# - TFG020: a launch template or configuration that a group of the plan launches from. It holds no
#   data, whatever the cause; what the change does is the group's story (TFG020 when only new
#   instances get it, TFG021 when the group's refresh replaces them), not TFG001's "disks lost".
# - TFG003: a read deferred to apply (the value is unknown: nothing else can be said of it).
# - TFG012: a value new on every run (a function or a token): the replacement recurs at every
#   apply, which matters more than what it is.
# - TFG006: the code or image of a function or task, changed by a data source read at plan time:
#   a deploy nobody reviewed, before the generic drift rules.
# - TFG001 (the image story), TFG002 (any other drift), then the stateful-replacement catch-all
#   TFG010 (code changes, taint, -replace, triggers, and causes not proven to be asked for).
REPLACEMENT_PRECEDENCE: tuple[str, ...] = ("TFG020", "TFG003", "TFG012", "TFG006", "TFG001", "TFG002", "TFG010")

# Which rule reports an attribute of an in-place update: for each update, each rule in this order
# keeps the attribute paths its `updates()` returns whose top-level attribute no earlier rule kept.
# The harm first: a deploy nobody reviewed (TFG006), machines replaced or restarted (TFG021),
# then a template change that reaches only new instances (TFG020); last the general case, a change
# made outside Terraform that the plan sets back (TFG005): a revert that one of the others
# reports is named in that finding instead.
UPDATE_PRECEDENCE: tuple[str, ...] = ("TFG006", "TFG021", "TFG020", "TFG005")


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
    update_order = [RULES_BY_ID[r] for r in UPDATE_PRECEDENCE if r in RULES_BY_ID]
    for rc in an.index.active:
        if rc.mode != "managed" or "update" not in rc.actions or is_replace(rc.actions) or an.address(rc) is None:
            continue
        taken: set[str | int] = set()
        for rule in update_order:
            paths = [tuple(p) for p in rule.updates(an, rc) if p and p[0] not in taken]
            if not paths:
                continue
            taken.update(p[0] for p in paths)
            if rule.id in active:
                claimed[rule.id].extend((rc, an.engine.explain_path(rc, p)) for p in paths)
    for rule in rules:
        yield from rule.check(an, claimed[rule.id])


__all__ = ["ALL_RULES", "REPLACEMENT_PRECEDENCE", "RULES_BY_ID", "Rule", "UPDATE_PRECEDENCE", "run_rules"]
