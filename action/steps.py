"""The GitHub Action's helpers (action.yml), run as `python -I action/steps.py COMMAND`.

Standard library only, so that it also runs on the runner's Python when the guard's own
virtualenv could not be made. `-I` keeps the current folder (the checked-out repository, which a
pull request controls) off `sys.path` and ignores the PYTHON* variables.

Commands:
  cache-key REQUIREMENTS VENV  `key=...` for $GITHUB_OUTPUT: the virtualenv's cache key
  outputs JSON_REPORT       `key=value` lines for $GITHUB_OUTPUT from the JSON report's summary
  failure [STDERR_FILE]     Markdown saying the check could not run, and why (the guard's message)
  comment                   put the report on the pull request (environment: see `comment()`)

The pull-request comment is found again by two things: its first line, a hidden marker scoped by
`comment-key` (default: the working directory), `<!-- replace-guard-report: infra/prod -->`, and
its author, which must be the identity of the token in use. Anyone can write a comment that starts
with the marker; only the token's own comments are ever edited.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

MARKER_PREFIX = "<!-- replace-guard-report: "
MARKER_SUFFIX = " -->"
# The login of the default GITHUB_TOKEN's comments (REST `user.login`).
ACTIONS_BOT = "github-actions[bot]"
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._/@+=:,~-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ERROR_LIMIT = 4000
MODES = {"always": "always", "true": "always", "on-findings": "on-findings",
         "never": "never", "false": "never", "": "never"}


def comment_key(text: str) -> str:
    """The marker's scope: a normalised relative path; nothing that could end the HTML comment."""
    text = text.strip().replace("\\", "/") or "."
    key = posixpath.normpath(text)
    key = _KEY_UNSAFE.sub("_", key)[:200]
    return key


def marker(key: str) -> str:
    return MARKER_PREFIX + comment_key(key) + MARKER_SUFFIX


def cache_key(requirements: Path, venv: str) -> str:
    """The virtualenv's cache key: the pinned requirements' hash, and the interpreter that makes the
    virtualenv (which works only with that interpreter, at that path, and only at that place)."""
    req = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    python = f"{sys.version}\n{sys.executable}\n{platform.machine()}\n{venv}"
    interpreter = hashlib.sha256(python.encode("utf-8")).hexdigest()[:16]
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return f"key=replace-guard-venv-{platform.system()}-{tag}-{req}-{interpreter}\n"


def outputs(report: Path) -> str:
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    return "".join(f"{key}={int(summary[key])}\n" for key in ("errors", "warnings", "notices", "replaced", "deleted"))


def _error_text(stderr: Path | None) -> str:
    if stderr is None or not stderr.is_file():
        return ""
    text = stderr.read_text(encoding="utf-8", errors="replace").strip()
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    if len(text) > _ERROR_LIMIT:
        text = text[:_ERROR_LIMIT] + "\n... (cut; the step log has all of it)"
    return text


def run_url() -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo, run = os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_RUN_ID", "")
    if not (repo and run):
        return ""
    url = f"{server}/{repo}/actions/runs/{run}"
    attempt = os.environ.get("GITHUB_RUN_ATTEMPT", "")
    return f"{url}/attempts/{attempt}" if attempt.isdigit() else url


def failure(stderr: Path | None, why: str = "") -> str:
    """Markdown for a check that did not run to the end (exit 2, or the guard never started)."""
    lines = ["## replace-guard could not check the plan", ""]
    lines.append(why or "The check stopped on bad input or usage (exit code 2): no finding was reported, "
                        "and this pull request is not known to be safe to apply.")
    error = _error_text(stderr)
    if error:
        # <pre> with entities: Markdown is not parsed and nothing in it links or mentions.
        lines += ["", "What the guard said:", "", "<pre>" + html.escape(error, quote=False) + "</pre>"]
    url = run_url()
    lines += ["", f"The [job log]({url}) has the details." if url else "The job log has the details."]
    return "\n".join(lines) + "\n"


# -- the pull-request comment ---------------------------------------------------------------------------

class GitHub:
    """The few GitHub API calls the comment needs, through the GitHub CLI (`gh`), which takes
    the token from GH_TOKEN."""

    def __init__(self, gh: str, repo: str):
        self.gh = gh
        self.repo = repo

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        # On GitHub Enterprise Server, gh must be told the host (it defaults to github.com).
        host = urllib.parse.urlsplit(env.get("GITHUB_SERVER_URL", "")).hostname
        if host and host != "github.com" and not env.get("GH_HOST"):
            env["GH_HOST"] = host
        return subprocess.run([self.gh, *args], capture_output=True, text=True, timeout=120, check=False, env=env)

    def whoami(self, token_is_default: bool) -> str | None:
        """The login this token comments as: GraphQL `viewer` (works for the GITHUB_TOKEN, app
        tokens and personal tokens), else REST /user (personal tokens), else the default token's bot."""
        proc = self._run("api", "graphql", "-f", "query=query { viewer { login } }", "--jq", ".data.viewer.login")
        login = proc.stdout.strip() if proc.returncode == 0 else ""
        if not login:
            proc = self._run("api", "user", "--jq", ".login")
            login = proc.stdout.strip() if proc.returncode == 0 else ""
        if not login and token_is_default:
            login = ACTIONS_BOT
        return login or None

    def own_comments(self, pr: str, login: str, mark: str) -> list[str] | None:
        """Ids of the comments on `pr` that `login` wrote and whose first line is `mark`, oldest first."""
        jq = '.[] | {id: .id, login: .user.login, head: ((.body // "") | .[0:400])} | @json'
        proc = self._run("api", "--paginate", f"repos/{self.repo}/issues/{pr}/comments", "--jq", jq)
        if proc.returncode != 0:
            return None
        ids = []
        for line in proc.stdout.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            first = str(item.get("head") or "").split("\n", 1)[0].rstrip("\r")
            if item.get("login") == login and first == mark:
                ids.append(str(item["id"]))
        return ids

    def update(self, comment_id: str, body: Path) -> bool:
        return self._run("api", "--method", "PATCH", f"repos/{self.repo}/issues/comments/{comment_id}",
                         "-F", f"body=@{body}").returncode == 0

    def create(self, pr: str, body: Path) -> bool:
        return self._run("api", "--method", "POST", f"repos/{self.repo}/issues/{pr}/comments",
                         "-F", f"body=@{body}").returncode == 0


def _pull_request_number() -> str:
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return ""
    number = (event.get("pull_request") or {}).get("number") if isinstance(event, dict) else None
    return str(number) if isinstance(number, int) else ""


def _findings(report: Path | None) -> int | None:
    if report is None or not report.is_file():
        return None
    try:
        summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
        return int(summary["errors"]) + int(summary["warnings"]) + int(summary["notices"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _path(name: str) -> Path | None:
    value = os.environ.get(name, "")
    return Path(value) if value else None


def comment() -> int:
    """Environment: RG_COMMENT (always | on-findings | never; true/false), RG_KEY (the marker's scope),
    RG_EXIT (the guard's exit code, empty when it did not run), RG_DIR (its reports: report.md,
    report.json, stderr.txt), GH_TOKEN, RG_DEFAULT_TOKEN (github.token, to know the default token's
    identity), and the runner's GITHUB_* variables."""
    raw = os.environ.get("RG_COMMENT", "").strip().lower()
    mode = MODES.get(raw)
    if mode is None:
        print(f"::error title=replace-guard::the comment input is {raw!r}: use always, on-findings or never")
        return 2
    if mode == "never":
        return 0
    pr = _pull_request_number()
    if not pr:
        print("replace-guard: not a pull-request event; no comment")
        return 0
    gh = shutil.which("gh")
    if gh is None:
        print("::warning title=replace-guard::no comment: the GitHub CLI (gh) is not on this runner")
        return 0
    folder = _path("RG_DIR")
    report_md = folder / "report.md" if folder else None
    report_json = folder / "report.json" if folder else None
    stderr = folder / "stderr.txt" if folder else None
    code = os.environ.get("RG_EXIT", "")
    if code in ("0", "1") and report_md is not None and report_md.is_file():
        content = report_md.read_text(encoding="utf-8")
        findings = _findings(report_json)
        something_to_say = findings is None or findings > 0
    else:
        why = "" if code == "2" else (
            "The guard did not run to the end (it could not be installed, or its step failed): no finding "
            "was reported, and this pull request is not known to be safe to apply.")
        content = failure(stderr, why)
        something_to_say = True

    mark = marker(os.environ.get("RG_KEY", "."))
    api = GitHub(gh, os.environ.get("GITHUB_REPOSITORY", ""))
    token = os.environ.get("GH_TOKEN", "")
    login = api.whoami(bool(token) and token == os.environ.get("RG_DEFAULT_TOKEN", ""))
    existing: list[str] | None = []
    if login is None:
        print("::warning title=replace-guard::cannot tell which login this token comments as, so an earlier "
              "comment cannot be found safely: adding a new one")
    else:
        existing = api.own_comments(pr, login, mark)
        if existing is None:
            print("::warning title=replace-guard::could not list the pull request's comments (the token needs "
                  "pull-requests: read)")
            return 0
    if not something_to_say and not existing:
        print(f"replace-guard: no findings; no comment on pull request {pr} (comment: on-findings)")
        return 0
    with tempfile.TemporaryDirectory(prefix="replace-guard-comment-") as tmp:
        body = Path(tmp) / "body.md"
        body.write_text(mark + "\n" + content, encoding="utf-8")
        if existing and api.update(existing[0], body):
            print(f"replace-guard: updated comment {existing[0]} on pull request {pr}")
        elif api.create(pr, body):
            print(f"replace-guard: commented on pull request {pr}")
        else:
            print("::warning title=replace-guard::could not comment on the pull request (the token needs "
                  "pull-requests: write; a fork's token is read-only)")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["cache-key"] and len(argv) == 3:
        sys.stdout.write(cache_key(Path(argv[1]), argv[2]))
        return 0
    if argv[:1] == ["outputs"] and len(argv) == 2:
        sys.stdout.write(outputs(Path(argv[1])))
        return 0
    if argv[:1] == ["failure"] and len(argv) <= 2:
        sys.stdout.write(failure(Path(argv[1]) if len(argv) == 2 else None))
        return 0
    if argv == ["comment"]:
        return comment()
    sys.stderr.write("usage: steps.py cache-key REQUIREMENTS VENV | outputs REPORT.json | failure [STDERR] | comment\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
