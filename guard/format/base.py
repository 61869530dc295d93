"""The interface every report format implements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..report import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    compact: bool = False  # text: one line per finding


class Formatter:
    name: ClassVar[str]

    def render(self, report: Report, options: RenderOptions) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def render_bytes(self, report: Report, options: RenderOptions) -> Iterable[bytes] | None:
        """The report as UTF-8 pieces to write one after the other (the same text as `render`),
        for a format that can write a large document without holding it as text too; None when
        the format has no such form (then `render` is written)."""
        return None
