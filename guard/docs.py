"""Parts of the README made from the code: the rule table, and what the guard prints and edits for
the bundled example. `python -m guard.docs README.md` writes them between their markers;
tests/test_readme.py fails when the README and the code disagree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

EXAMPLE = "examples/ami-drift"
SECTIONS = ("rules", "example-output", "example-fix")


def rules_table() -> str:
    from .rules import ALL_RULES

    lines = ["| rule | default | finds |", "|---|---|---|"]
    for rule in ALL_RULES:
        summary = rule.summary.replace("|", "\\|")
        lines.append(f"| {rule.id} | {rule.severity_text or rule.severity.value} | {rule.name}: {summary} |")
    return "\n".join(lines)


def _run(args: list[str], cwd: Path) -> tuple[int, str]:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "guard", *args], cwd=cwd, capture_output=True, text=True,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}, timeout=300)
    return proc.returncode, proc.stdout


def example_output(repo: Path) -> str:
    _, out = _run(["check", f"{EXAMPLE}/plan.json", "-C", EXAMPLE], repo)
    return "```\n" + out.rstrip("\n") + "\n```"


def example_fix(repo: Path) -> str:
    _, out = _run(["fix", f"{EXAMPLE}/plan.json", "-C", EXAMPLE], repo)
    return "```diff\n" + out.rstrip("\n") + "\n```"


def render(name: str, repo: Path) -> str:
    if name == "rules":
        return rules_table()
    if name == "example-output":
        return example_output(repo)
    return example_fix(repo)


def section(text: str, name: str) -> str | None:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    return m.group(1) if m else None


def update(readme: Path) -> bool:
    """Rewrite the generated sections of `readme`; True when something changed."""
    repo = readme.resolve().parent
    text = readme.read_text(encoding="utf-8")
    new = text
    for name in SECTIONS:
        body = render(name, repo)

        def between_markers(m: re.Match[str], body: str = body) -> str:  # a function: `body` is not a template
            return m.group(1) + body + m.group(2)

        new = re.sub(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", between_markers, new, flags=re.S)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print(f"{target}: {'updated' if update(target) else 'up to date'}")
