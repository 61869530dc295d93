"""The interface every rule implements."""

from __future__ import annotations

from typing import ClassVar, Iterable

from ..context import Context
from ..findings import Finding, Severity


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
