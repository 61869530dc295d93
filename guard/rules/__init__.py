"""The rule catalogue, in the order rules run (earlier rules claim a resource first)."""

from __future__ import annotations

from .base import Rule
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

__all__ = ["ALL_RULES", "RULES_BY_ID", "Rule"]
