"""The report every format reads: the findings, the plans, and what the formats need, computed once.

`analyze()` builds a `Report`; formats read it and nothing else. What more than one format needs
is worked out here, once, the same way for all of them:

- counts per severity, the findings at or above `fail_on`, the exit code;
- what the plans replace and delete, named so the two cannot be confused;
- the groups: findings of one rule that share a root cause (the `group` key a rule sets: the
  same data source instance and new value, the same function, the same drift) form one `Group`,
  so a format can explain the cause once and list every address it hits. A finding without a
  `group` key is a group of its own, so formats can walk `report.groups` and nothing else.

Groups never span plans (the same key in two plans names two different objects) or severities
(a section has one severity). Their order is the order of their first finding, and findings keep
their order inside a group: output stays deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .findings import FAIL_LEVELS, Finding, Severity

if TYPE_CHECKING:
    from .config import AllowEntry

SEVERITIES: tuple[Severity, ...] = (Severity.error, Severity.warning, Severity.notice)


@dataclass
class PlanSummary:
    """What one plan does, counted over managed resources the way Terraform's own plan summary counts.

    `create`, `update`, `delete`, `forget`: changes whose actions include that verb, so a
    replacement counts once in `create` and once in `delete` (Terraform's "to add" / "to destroy").
    `replace`: replacements. `deleted_without_replacement`: deletions that are not part of one.
    """

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

    @property
    def deleted_without_replacement(self) -> int:
        return max(0, self.delete - self.replace)


@dataclass(frozen=True, eq=False)
class Group:
    """Findings of one rule, in one plan, with one severity, that share a root cause.

    `key` is the findings' `group`; None for a finding that shares its root with no other (then
    the group holds that one finding).
    """

    id: str
    plan: str
    rule: str
    severity: Severity
    key: str | None
    findings: tuple[Finding, ...]

    @property
    def lead(self) -> Finding:
        """The first finding: the one whose explanation stands for the group."""
        return self.findings[0]

    @property
    def size(self) -> int:
        return len(self.findings)

    @property
    def shared(self) -> bool:
        """True for findings grouped by a rule's `group` key (even a group of one)."""
        return self.key is not None

    @property
    def cause(self) -> str:
        return self.lead.cause

    @property
    def root(self) -> str | None:
        return self.lead.root

    @property
    def addresses(self) -> list[str]:
        return [f.address for f in self.findings]

    def common(self, part: Callable[[Finding], Any]) -> bool:
        """True when every finding has the same `part` (e.g. the same values) as the lead."""
        first = part(self.lead)
        return all(part(f) == first for f in self.findings[1:])

    @cached_property
    def common_action(self) -> bool:
        """Every finding has the lead's actions and action reason."""
        return self.common(lambda f: (f.actions, f.action_reason))

    @cached_property
    def common_values(self) -> bool:
        """Every finding has the lead's value changes."""
        return self.common(lambda f: f.values)

    @cached_property
    def common_facts(self) -> frozenset[str]:
        """The keys of the lead's facts that every finding has with the same value."""
        lead = self.lead.facts
        return frozenset(k for k, v in lead.items() if all(f.facts.get(k) == v for f in self.findings[1:]))

    def common_fact(self, key: str) -> bool:
        return key in self.common_facts


def group_id(plan: str, rule: str, severity: Severity, key: str | None, lead: Finding) -> str:
    """Stable across runs: from what identifies the group, not from its position or its size."""
    # A finding in no group: its own identity (the finding's fingerprint, which it cannot compute
    # for plan text with lone surrogates).
    own = ["", lead.address, repr(lead.replace_paths)]
    basis = [plan, rule, severity.value, key] if key is not None else [plan, rule, severity.value, *own]
    digest = hashlib.sha256("\x1f".join(basis).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{rule}-{digest}"


def build_groups(findings: list[Finding]) -> list[Group]:
    members: dict[tuple[str, str, str, str], list[Finding]] = {}
    order: list[tuple[str, str, str, str]] = []
    for n, f in enumerate(findings):
        # A finding without a key gets a key no other finding can have.
        slot = f.group if f.group is not None else f"\x00{n}"
        key = (f.plan, f.rule, f.severity.value, slot)
        if key not in members:
            members[key] = []
            order.append(key)
        members[key].append(f)
    groups = []
    for key in order:
        found = members[key]
        lead = found[0]
        groups.append(Group(id=group_id(lead.plan, lead.rule, lead.severity, lead.group, lead), plan=lead.plan,
                            rule=lead.rule, severity=lead.severity, key=lead.group, findings=tuple(found)))
    return groups


@dataclass
class Report:
    """One run's result. Build it, then render it: the computed parts are worked out on first use."""

    findings: list[Finding]
    plans: list[PlanSummary]
    fail_on: str = "error"
    suppressed: list[Finding] = field(default_factory=list)
    expired_allows: list[AllowEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The command that fixes what the report found (`replace-guard fix PLAN ...`), when there is one.
    fix_command: str | None = None
    # The per-plan analyses (guard.analysis.Analysis) behind the findings, for `explain` and `fix`.
    analyses: list[Any] = field(default_factory=list, repr=False)

    @cached_property
    def counts(self) -> dict[str, int]:
        """Findings per severity (`error`, `warning`, `notice`: always all three keys)."""
        out = {s.value: 0 for s in SEVERITIES}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def count(self, severity: Severity | str) -> int:
        return self.counts[Severity(severity).value]

    @cached_property
    def failing_findings(self) -> list[Finding]:
        level = FAIL_LEVELS[self.fail_on]
        return [f for f in self.findings if f.severity.rank >= level]

    def failing(self) -> list[Finding]:
        return self.failing_findings

    @property
    def exit_code(self) -> int:
        return 1 if self.failing_findings else 0

    @cached_property
    def groups(self) -> list[Group]:
        """Every finding in exactly one group, in the order of the findings."""
        return build_groups(self.findings)

    @cached_property
    def group_of(self) -> dict[int, Group]:
        """id(finding) -> its group."""
        return {id(f): g for g in self.groups for f in g.findings}

    @cached_property
    def shared_groups(self) -> list[Group]:
        """The groups a rule formed (findings with a `group` key)."""
        return [g for g in self.groups if g.shared]

    @property
    def replaced(self) -> int:
        """Resources the plans replace."""
        return sum(p.replace for p in self.plans)

    @property
    def deleted_without_replacement(self) -> int:
        """Resources the plans delete and do not create again."""
        return sum(p.deleted_without_replacement for p in self.plans)

    @property
    def destroyed(self) -> int:
        """Every object the plans destroy: replacements and deletions."""
        return sum(p.delete for p in self.plans)
