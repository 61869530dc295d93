"""The interface every report format implements."""

from __future__ import annotations

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
