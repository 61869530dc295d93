"""Report formats: one module each, behind `Formatter`.

Modules are imported only when their format is asked for.
"""

from __future__ import annotations

import importlib
from typing import cast

from .base import Formatter, RenderOptions

FORMATS: dict[str, str] = {
    "text": "guard.format.text:TextFormat",
    "json": "guard.format.json_report:JsonFormat",
    "markdown": "guard.format.markdown:MarkdownFormat",
    "sarif": "guard.format.sarif:SarifFormat",
    "junit": "guard.format.junit:JunitFormat",
    "github": "guard.format.github:GithubFormat",
    "gitlab": "guard.format.gitlab:GitlabFormat",
    "codequality": "guard.format.codequality:CodeQualityFormat",
}


def get_formatter(name: str) -> Formatter:
    module_name, _, cls = FORMATS[name].partition(":")
    return cast(Formatter, getattr(importlib.import_module(module_name), cls)())


__all__ = ["FORMATS", "Formatter", "RenderOptions", "get_formatter"]
