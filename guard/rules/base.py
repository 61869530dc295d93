"""The interface every rule implements.

A rule is documentation (what it finds, why it matters, an example, the fix: shown by
`replace-guard rules ID`) plus two methods:

- `claims(an, rc, cause)`: for a replaced resource, whether this rule reports it, judged on the
  cause the engine found. Which rule wins when several would claim a replacement is decided in
  one place: `REPLACEMENT_PRECEDENCE` in `guard/rules/__init__.py`.
- `updates(an, rc)`: for an in-place update, the attribute paths of it this rule reports. Which
  rule reports an attribute that several would is decided in one place too: `UPDATE_PRECEDENCE`.
  Each path a rule keeps reaches `check` as a claimed `(rc, cause)` (the cause of that path).
- `check(an, claimed)`: the findings, from the replacements and update paths it claimed and from
  whatever other part of the plan it reads (deletions, drift).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from ..analysis import Analysis
from ..engine import Cause, CauseKind
from ..findings import ChainLink, Finding, Fix, Location, Severity, ValueChange
from ..model import ResourceChange
from ..values import path_text

Claimed = list[tuple[ResourceChange, Cause]]


class Rule:
    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    fix: ClassVar[str]
    # How the catalogue shows the severity when findings take more than one (`error/warning`).
    severity_text: ClassVar[str | None] = None
    # Cause kinds of replacements this rule reports (see claims()).
    kinds: ClassVar[frozenset[CauseKind]] = frozenset()

    def claims(self, an: Analysis, rc: ResourceChange, cause: Cause) -> bool:
        return cause.kind in self.kinds

    def updates(self, an: Analysis, rc: ResourceChange) -> Sequence[tuple[str | int, ...]]:
        """The attribute paths of an in-place update that this rule reports (none by default)."""
        return ()

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(self, an: Analysis, rc: ResourceChange, *, title: str, message: str,
                chain: Sequence[ChainLink] = (), values: Sequence[ValueChange] = (),
                paths: Sequence[Sequence[str | int]] = (), facts: dict[str, str] | None = None,
                fixes: Sequence[Fix] = (), location: Location | None = None,
                severity: Severity | None = None, cause: Cause | None = None, group: str | None = None,
                root: str | None = None, address: str | None = None) -> Finding:
        """A finding about one resource change, with the fields every rule fills the same way.

        `paths` stand in for replace_paths in plans that predate them; `location` defaults to
        the first link of the chain, then the resource block; `severity` to the rule's own.
        """
        if location is None and chain:
            location = chain[0].location
        if location is None:
            location = an.block_location(rc)
        replace_paths = [list(p) for p in (rc.change.replace_paths or paths)]
        if cause is not None and cause.others > 0 and chain:
            import shlex

            command = f"replace-guard explain {shlex.quote(an.label)} {shlex.quote(address or rc.full_address)}"
            facts = {**(facts or {}), "other_chains": f"{cause.others} more chain(s) from this attribute; "
                                                      f"`{command}` lists them"}
        return Finding(
            rule=self.id, severity=severity or self.severity, title=title, address=address or rc.full_address,
            plan=an.label, actions=list(rc.actions), action_reason=rc.action_reason,
            replace_paths=replace_paths, values=list(values), chain=list(chain), facts=facts or {},
            message=message, fixes=list(fixes), location=location,
            cause=cause.kind.value if cause is not None else "", group=group, root=root)

    @staticmethod
    def value_change(path: Sequence[str | int], before: str, after: str) -> ValueChange:
        return ValueChange(path=path_text(path), before=before, after=after)


def group_key(rule: str, an: Analysis, cause: Cause) -> str | None:
    """Findings with one root cause share this: the same data source instance (which holds one value
    in a plan), the same function, the same upstream change. No value goes into the key: it is
    printed, and values may be secret. Reports group by plan and key: a key names nothing across plans."""
    if cause.data is not None:
        return f"{rule}|{cause.kind.value}|{cause.data.address}"
    root = cause.root
    if root is not None and root.kind == "function":
        return f"{rule}|{cause.kind.value}|{root.ref}|{'.'.join(root.names)}"
    if cause.through:
        return f"{rule}|{cause.kind.value}|{cause.through[-1]}"
    return None
