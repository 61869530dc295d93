"""GitLab's Terraform report (`artifacts: reports: terraform:`): `{"create": N, "update": N, "delete": N}`.

Counted over all plans, over managed resources, the way GitLab's documented `jq` recipe counts
the actions: a replacement is one create and one delete.
"""

from __future__ import annotations

import json

from ..report import Report
from .base import Formatter, RenderOptions


def counts(report: Report) -> dict[str, int]:
    return {
        "create": sum(p.create for p in report.plans),
        "update": sum(p.update for p in report.plans),
        "delete": sum(p.delete for p in report.plans),
    }


class GitlabFormat(Formatter):
    name = "gitlab"

    def render(self, report: Report, options: RenderOptions) -> str:
        return json.dumps(counts(report)) + "\n"
