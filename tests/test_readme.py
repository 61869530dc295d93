"""The README says what the code does: its rule table is the catalogue, its example output and
fix diff are what the guard prints for the bundled example (`python -m guard.docs README.md`
writes them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from guard import docs
from guard.rules import ALL_RULES

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_rule_table_is_the_catalogue():
    table = docs.section(README, "rules")
    assert table == docs.rules_table(), "run `python -m guard.docs README.md`"
    for rule in ALL_RULES:
        assert f"| {rule.id} | {rule.severity_text or rule.severity.value} |" in table


def test_example_output_is_what_the_guard_prints():
    assert docs.section(README, "example-output") == docs.example_output(REPO), "run `python -m guard.docs README.md`"


def test_fix_section_shows_the_diff_the_example_gets_and_git_applies_it(tmp_path):
    shown = docs.section(README, "example-fix")
    assert shown == docs.example_fix(REPO), "run `python -m guard.docs README.md`"
    diff = shown.removeprefix("```diff\n").removesuffix("\n```") + "\n"
    assert diff.startswith("--- a/main.tf\n+++ b/main.tf\n")
    copy = tmp_path / "example"
    subprocess.run(["cp", "-r", str(REPO / docs.EXAMPLE), str(copy)], check=True)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    applied = subprocess.run(["git", "apply", "-"], cwd=copy, input=diff, text=True, capture_output=True)
    assert applied.returncode == 0, applied.stderr
    assert 'ami           = "ami-' in (copy / "main.tf").read_text()


def test_every_command_in_the_usage_block_exists():
    from guard.cli import cli

    for command in ("check", "fix", "explain", "plan", "serve", "rules"):
        assert f"replace-guard {command}" in README
        assert command in cli.commands
    result = subprocess.run([sys.executable, "-m", "guard", "fix", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--strategy" in result.stdout
