"""The interface every rule implements."""

from __future__ import annotations

from typing import ClassVar, Iterable, Sequence

from ..context import Context, path_text, resource_address
from ..findings import ChainLink, Finding, Fix, Location, Severity, ValueChange
from ..model import ResourceChange


class Rule:
    """A rule looks at one plan and yields findings.

    Class attributes document it the way `replace-guard rules ID` shows it: what it finds,
    why it matters, an example and the fix.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    fix: ClassVar[str]

    def check(self, ctx: Context) -> Iterable[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(self, ctx: Context, rc: ResourceChange, *, title: str, message: str,
                chain: Sequence[ChainLink] = (), values: Sequence[ValueChange] = (),
                paths: Sequence[Sequence[str | int]] = (), facts: dict[str, str] | None = None,
                fixes: Sequence[Fix] = (), location: Location | None = None,
                severity: Severity | None = None) -> Finding:
        """A finding about one resource change, with the fields every rule fills the same way.

        `paths` stand in for replace_paths in plans that predate them; `location` defaults to
        the first link of the chain; `severity` to the rule's own.
        """
        if location is None and chain:
            location = chain[0].location
        return Finding(
            rule=self.id, severity=severity or self.severity, title=title, address=rc.full_address, plan=ctx.plan_label,
            actions=list(rc.actions), action_reason=rc.action_reason,
            replace_paths=[list(p) for p in (rc.change.replace_paths or paths)],
            values=list(values), chain=list(chain), facts=facts or {}, message=message, fixes=list(fixes),
            location=location)

    @staticmethod
    def value_change(path: Sequence[str | int], before: str, after: str) -> ValueChange:
        return ValueChange(path=path_text(path), before=before, after=after)


class ReplacementRule(Rule):
    """A rule about replacements that no earlier rule has explained.

    Subclasses implement `_cause(ctx, rc)` (a tuple, or None when the rule does not apply) and
    `_finding(ctx, rc, *cause)`; the resource is then claimed for later rules.
    """

    def check(self, ctx: Context) -> Iterable[Finding]:
        for rc in ctx.replacements():
            address = rc.full_address
            if address in ctx.claimed or resource_address(rc) is None:
                continue
            found = self._cause(ctx, rc)
            if found is None:
                continue
            yield self._finding(ctx, rc, *found)
            ctx.claim(address)

    def _cause(self, ctx: Context, rc: ResourceChange) -> tuple | None:  # pragma: no cover - interface
        raise NotImplementedError

    def _finding(self, ctx: Context, rc: ResourceChange, *cause) -> Finding:  # pragma: no cover - interface
        raise NotImplementedError
