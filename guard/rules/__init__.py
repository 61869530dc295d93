"""The rule catalogue, in the order rules run (earlier rules claim a resource first)."""

from __future__ import annotations

from .base import Rule
from .tfg001_ami_drift import AmiDrift

ALL_RULES: tuple[Rule, ...] = (AmiDrift(),)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_ID", "Rule"]
