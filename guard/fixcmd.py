"""`replace-guard fix`: make the edits the findings' fixes carry, or print them as a diff.

The analysis is `check`'s (same config, same allow entries); each finding's fixes say which
strategy they belong to (`pin`, `pin-keys`, `ignore`, `call-site`) and carry exact edits
(`guard.findings.Edit`). This module picks one fix per finding by the strategy asked for, keeps
only edits in files the user owns (the root module and local modules in the repository; never
`.terraform/modules`, never a file reached through a symlink out of the tree), applies them with
`guard.hcledit` (touching only the lines that change), and reports per finding what it did.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from .findings import FAIL_LEVELS, Edit, Finding, Fix
from .fixes import NO_PIN
from .report import Report

STRATEGIES = ("auto", "pin", "ignore")
# Which fixes each strategy takes, in order of preference.
PREFERENCE: dict[str, tuple[str, ...]] = {
    # auto: a pin where it is safe (one value, one line that serves only the replaced instances),
    # then a pin on a module call, then ignore_changes (or the module's own switch to a variant that
    # ignores the attribute). A pin per key (lookup by each.key) only when asked for.
    "auto": ("pin", "call-site-pin", "ignore", "call-site-switch"),
    "pin": ("pin", "pin-keys", "call-site-pin"),
    "ignore": ("ignore", "call-site-switch"),
}


@dataclass
class Choice:
    finding: Finding
    fix: Fix | None
    reason: str = ""  # why there is no edit, or what the edit does
    outcome: str = ""  # applied | in place | refused: ...


@dataclass
class FixRun:
    choices: list[Choice] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    base: Path | None = None  # the folder the diff's paths are relative to
    written: list[str] = field(default_factory=list)

    def missing(self, fail_on: str) -> list[Choice]:
        """Findings at or above `fail_on` that got no edit."""
        level = FAIL_LEVELS[fail_on]
        return [c for c in self.choices if c.finding.severity.rank >= level and (
            c.fix is None or c.outcome.startswith("refused"))]


def kind_of(fix: Fix) -> str | None:
    if fix.strategy == "call-site":
        return "call-site-switch" if any(e.action == "append_block" for e in fix.edits) else "call-site-pin"
    return fix.strategy


def choose(finding: Finding, strategy: str) -> Choice:
    candidates = [f for f in finding.fixes if f.edits and kind_of(f)]
    for wanted in PREFERENCE[strategy]:
        for fix in candidates:
            if kind_of(fix) == wanted:
                return Choice(finding, fix, reason=fix.title)
    # Say why: the finding's own fixes explain what a person can do.
    words = next((f.detail for f in finding.fixes if f.detail.startswith(NO_PIN)), None)
    if strategy == "ignore" or words is None:
        words = _no_edit_reason(finding, strategy)
    return Choice(finding, None, reason=words)


def _no_edit_reason(finding: Finding, strategy: str) -> str:
    by_rule = {
        "TFG003": "a data source read during apply: remove its depends_on (or the module call's) by hand",
        "TFG004": "the region or account changed: plan again with the right ones; nothing to edit",
        "TFG011": "a deletion: a moved block or `terraform state rm` (see the finding) is a decision for a person",
        "TFG010": "a change someone made in the code: keep it, or revert it by hand",
        "TFG005": "a change made by hand to a security-relevant resource: write it into the code (the finding "
                  "shows the HCL) or allow the revert; ignoring it would keep whatever anyone adds",
        "TFG021": "a rollout the code asks for: apply it when replacing the machines is fine, or allow it",
    }
    if finding.rule in by_rule:
        return by_rule[finding.rule]
    kinds = ", ".join(sorted({k for f in finding.fixes if (k := kind_of(f))})) or "none"
    return f"no fix of the `{strategy}` kind (this finding has: {kinds})"


def allowed_dirs(report: Report) -> list[Path]:
    """Folders whose files the user owns: the root module and the local modules it calls."""
    out: list[Path] = []
    for an in report.analyses:
        root = an.graph.sources.root
        if root is None:
            continue
        out.append(root.resolve())
        stack: list[tuple[str, ...]] = [()]
        while stack:
            names = stack.pop()
            mod = an.graph.module(names)
            for call in (mod.module_calls if mod is not None and isinstance(mod.module_calls, dict) else {}):
                child = names + (call,)
                if an.graph.owned(child):
                    folder = an.graph.module_dir(child)
                    if folder is not None:
                        out.append(folder.resolve())
                    stack.append(child)
    return sorted(set(out))


def _inside(path: Path, dirs: list[Path]) -> bool:
    if ".terraform" in path.parts:
        return False
    return any(path == d or d in path.parents for d in dirs)


def run(report: Report, strategy: str, write: bool, addresses: tuple[str, ...] = (),
        rules: tuple[str, ...] = (), root: Path | None = None) -> FixRun:
    from . import hcledit

    out = FixRun()
    wanted_rules = {r.upper() for r in rules}
    for finding in report.findings:
        if wanted_rules and finding.rule not in wanted_rules:
            continue
        if addresses and not any(finding.address == a or fnmatch.fnmatchcase(finding.address, a) for a in addresses):
            continue
        out.choices.append(choose(finding, strategy))
    dirs = allowed_dirs(report)
    base = (root or Path.cwd()).resolve()
    per_file: dict[Path, list[tuple[Choice, Edit]]] = {}
    for choice in out.choices:
        if choice.fix is None:
            continue
        targets: list[tuple[Path, Edit]] = []
        for edit in choice.fix.edits:
            path = Path(edit.file)
            resolved = (Path.cwd() / path).resolve() if not path.is_absolute() else path.resolve()
            if not _inside(resolved, dirs) or not resolved.is_file():
                choice.outcome = f"refused: {edit.file} is not a file of the root module or of a local module"
                targets = []
                break
            targets.append((resolved, edit))
        for resolved, edit in targets:
            per_file.setdefault(resolved, []).append((choice, edit))
    # The diff's paths are relative to the root module folder, unless an edit is in a local module
    # beside it (`../modules/app`): then to the repository, where `git apply` takes them.
    if any(not path.is_relative_to(base) for path in per_file):
        top = next((an.graph.sources.top for an in report.analyses if an.graph.sources.top is not None), None)
        if top is not None and all(path.is_relative_to(top) for path in per_file):
            base = top
    out.base = base
    for path in sorted(per_file):
        items = per_file[path]
        try:
            old = hcledit.read_source(path)
        except hcledit.HclEditError as err:
            for choice, _ in items:
                choice.outcome = f"refused: {err}"
            continue
        result = hcledit.apply(old, [edit for _, edit in items])
        done = "applied" if write else "in the diff"
        for (choice, _), outcome in zip(items, result.outcomes, strict=True):
            if outcome.status == "refused":
                choice.outcome = f"refused: {outcome.reason}"
            elif not choice.outcome.startswith("refused"):
                choice.outcome = done if outcome.status == "applied" or choice.outcome == done else "already in place"
        if result.changed:
            rel = path.relative_to(base).as_posix()  # every path is inside `base` (allowed_dirs, above)
            out.diffs.append(hcledit.unified_diff(old, result.text, rel))
            if write:
                hcledit.write_source(path, result.text)
                out.written.append(rel)
    return out


def summary_lines(fixed: FixRun) -> list[str]:
    from .format.safe import one_line

    lines = []
    for choice in fixed.choices:
        head = f"{choice.finding.rule} {one_line(choice.finding.address)}"
        if choice.fix is None:
            lines.append(f"{head}: no automatic edit: {one_line(choice.reason)}")
        else:
            state = choice.outcome or "in place"
            lines.append(f"{head}: {one_line(choice.fix.title)} ({kind_of(choice.fix)}): {one_line(state)}")
    return lines
