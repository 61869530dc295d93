"""The run task protocol: the request HCP sends, its signature, and the result we send back.

Nothing here talks to the network. The result is built from the JSON report of
`replace-guard check` (its stable, documented fields), so the server reports exactly what
`check` found.

Plan text (addresses, values, keys) is data. In the Markdown of an outcome body it is escaped as
the Markdown report escapes it (`guard.format.markdown.text`: entities, backslash escapes, no
mentions), and the chain and fix snippets go into indented code blocks, one plan line per line,
where Markdown and HTML are not interpreted. In the plain-text fields (message, description,
outcome id) control characters are shown as escapes and newlines are folded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SIGNATURE_HEADER = "x-tfc-task-signature"
TEST_TOKEN = "test-token"  # HCP's check request when someone creates the run task
JSONAPI = "application/vnd.api+json"

# Limits of HCP's structured run task result schema.
MESSAGE_MAX = 1000
OUTCOMES_MAX = 250
OUTCOME_ID_MAX = 64
DESCRIPTION_MAX = 1000
BODY_MAX = 10_000
TAG_LABEL_MAX = 32

_LEVEL = {"error": "error", "warning": "warning", "notice": "info"}


class BadRequest(Exception):
    """The POST is not a run task request we can answer (400)."""


def signature(key: bytes, body: bytes) -> str:
    """HMAC-SHA512 of the exact body bytes, lower-case hex: what HCP sends with a key."""
    return hmac.new(key, body, hashlib.sha512).hexdigest()


def signature_ok(key: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of `X-TFC-Task-Signature` against the raw body."""
    if not header:
        return False
    given = header.strip().lower().encode("latin-1", "replace")
    return hmac.compare_digest(signature(key, body).encode("ascii"), given)


def _http_url(value: Any, field: str, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise BadRequest(f"`{field}` is missing")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"`{field}` is not a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"`{field}` is not an http(s) URL")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class TaskRequest:
    """The fields of a run task request the server uses (others are accepted and ignored)."""

    access_token: str
    stage: str
    task_result_id: str
    callback_url: str
    run_id: str = ""
    plan_json_api_url: str | None = None
    configuration_version_download_url: str | None = None
    working_directory: str = ""
    outcomes: bool = False
    workspace_name: str = ""
    organization_name: str = ""

    def __repr__(self) -> str:  # never show the token
        return f"TaskRequest(task_result_id={self.task_result_id!r}, run_id={self.run_id!r}, stage={self.stage!r})"

    @property
    def is_test(self) -> bool:
        return self.access_token == TEST_TOKEN

    @property
    def label(self) -> str:
        """For logs: the task result and run, never the token."""
        return f"task result {self.task_result_id or '?'} (run {self.run_id or '?'})"

    @staticmethod
    def parse(raw: bytes) -> TaskRequest:
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the body is not JSON") from None
        if not isinstance(payload, dict):
            raise BadRequest("the body is not a JSON object")
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise BadRequest("`access_token` is missing")
        caps = payload.get("capabilities") or payload.get("capabilitites")  # go-tfe's spelling
        outcomes = isinstance(caps, dict) and caps.get("outcomes") is True
        if token == TEST_TOKEN:  # dummy data: only the token matters
            return TaskRequest(token, _text(payload.get("stage")), _text(payload.get("task_result_id")),
                               _text(payload.get("task_result_callback_url")), outcomes=outcomes)
        return TaskRequest(
            access_token=token,
            stage=_text(payload.get("stage")),
            task_result_id=_text(payload.get("task_result_id")),
            callback_url=_http_url(payload.get("task_result_callback_url"), "task_result_callback_url", True) or "",
            run_id=_text(payload.get("run_id")),
            plan_json_api_url=_http_url(payload.get("plan_json_api_url"), "plan_json_api_url", False),
            configuration_version_download_url=_http_url(payload.get("configuration_version_download_url"),
                                                         "configuration_version_download_url", False),
            working_directory=_text(payload.get("workspace_working_directory")),
            outcomes=outcomes,
            workspace_name=_text(payload.get("workspace_name")),
            organization_name=_text(payload.get("organization_name")),
        )


# ---------------------------------------------------------------------------
# text helpers


def plain(value: Any) -> str:
    """Plan text for a plain-text field: one line, control characters as escapes."""
    from ..format.text import one_line

    return one_line(str(value))


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


# ---------------------------------------------------------------------------
# the verdict


@dataclass(frozen=True)
class Result:
    status: str  # passed | failed
    message: str
    outcomes: list[dict[str, Any]] | None = None


def callback_body(result: Result, with_outcomes: bool = True) -> bytes:
    """The JSON:API document for `PATCH task_result_callback_url`."""
    data: dict[str, Any] = {"type": "task-results",
                            "attributes": {"status": result.status, "message": cut(result.message, MESSAGE_MAX)}}
    if with_outcomes and result.outcomes:
        data["relationships"] = {"outcomes": {"data": result.outcomes}}
    return json.dumps({"data": data}, ensure_ascii=False).encode("utf-8")


def _kind(actions: list[str]) -> str:
    acts = [str(a).lower() for a in actions]
    if "delete" in acts and "create" in acts:
        return "replaced"
    if "delete" in acts:
        return "destroyed"
    if "create" in acts:
        return "created again"
    return "changed"


def _join_within(head: str, groups: list[tuple[str, list[str]]], tail: str, limit: int) -> str:
    """HEAD, then 'Will be replaced: a, b. Will be destroyed: c.', then TAIL, within LIMIT:
    addresses are left out from the end (saying how many) rather than cutting the tail."""
    total = sum(len(addrs) for _, addrs in groups)

    def render(keep: int) -> str:
        parts, shown = [], 0
        for kind, addrs in groups:
            take = addrs[: max(0, keep - shown)]
            shown += len(take)
            if take:
                parts.append(f"Will be {kind}: {', '.join(take)}.")
        left = total - shown
        if left:
            parts.append(f"(and {left} more; see the outcomes)")
        return " ".join(p for p in (head, " ".join(parts), tail) if p)

    for keep in range(total, -1, -1):
        text = render(keep)
        if len(text) <= limit:
            return text
    return cut(render(0), limit)


def verdict(report: dict[str, Any], exit_code: int, notes: list[str]) -> tuple[str, str]:
    """(status, message) from `check`'s JSON report and exit code (0 or 1)."""
    summary = report.get("summary") or {}
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    fail_on = str(summary.get("fail_on", "error"))
    tail = " ".join(notes)
    counts = ", ".join(f"{summary[k]} {k[:-1] if summary[k] == 1 else k}"
                       for k in ("errors", "warnings", "notices") if summary.get(k))
    if exit_code == 1:
        failing = [f for f in findings if _rank(f.get("severity")) >= _rank(fail_on)]
        groups: dict[str, list[str]] = {}
        for f in failing:
            address = plain(f.get("address", "?"))
            kind = _kind(list(f.get("actions") or []))
            if address not in groups.setdefault(kind, []):
                groups[kind].append(address)
        order = ["replaced", "destroyed", "created again", "changed"]
        head = f"replace-guard failed: resources are destroyed or replaced unasked ({counts}; fails on {fail_on})."
        return "failed", _join_within(head, [(k, groups[k]) for k in order if k in groups], tail, MESSAGE_MAX)
    if findings:
        head = f"replace-guard passed: nothing at or above {fail_on} ({counts} below it; see the outcomes)."
    else:
        head = "replace-guard passed: no resource is destroyed or replaced unasked."
    return "passed", cut(" ".join(p for p in (head, tail) if p), MESSAGE_MAX)


def _rank(severity: Any) -> int:
    return {"error": 3, "warning": 2, "notice": 1, "never": 99}.get(str(severity), 0)


# ---------------------------------------------------------------------------
# outcomes


def outcome_id(finding: dict[str, Any]) -> str:
    """`RULE-address`, at most 64 characters (a long address keeps its start and a hash)."""
    rule = plain(finding.get("rule", "finding"))[:16]
    address = plain(finding.get("address", ""))
    text = f"{rule}-{address}" if address else rule
    if len(text) <= OUTCOME_ID_MAX:
        return text
    digest = hashlib.sha256(address.encode("utf-8")).hexdigest()[:8]
    return f"{text[: OUTCOME_ID_MAX - 9]}~{digest}"


def _where(location: Any) -> str:
    if isinstance(location, dict) and location.get("file"):
        return f"{location['file']}:{location.get('line', 1)}"
    return ""


def _code_block(lines: list[str]) -> list[str]:
    """An indented code block: literal text, nothing interpreted (each line is one plan line)."""
    return ["", *("    " + cut(plain(line), 1000) for line in lines), ""]


def _chain_lines(chain: list[Any]) -> list[str]:
    out = []
    for i, link in enumerate(chain):
        if not isinstance(link, dict):
            continue
        ref = str(link.get("ref", ""))
        if link.get("module"):
            ref += f" ({link['module']})"
        where = _where(link.get("location"))
        expr = link.get("expression")
        out.append(f"{'   ' if i == 0 else '<- '}{ref}" + (f"  [{where}]" if where else "")
                   + (f"  {expr}" if expr else ""))
        out += [f"     {d}" for d in link.get("details") or []]
        if link.get("note"):
            out.append(f"     ({link['note']})")
    return out


def _code(value: Any, limit: int = 500) -> str:
    """Plan text as an inline code span: nothing inside is interpreted. Text holding a backtick
    (which could close the span) is escaped as prose instead."""
    from ..format.markdown import text as md

    text = cut(plain(value), limit)
    if not text.strip():
        return md(text)
    return f"`{text}`" if "`" not in text else md(text, limit)


def _prose(value: Any, limit: int = 3000) -> str:
    """A rule's sentence: escaped as prose, its `quoted` parts (attribute names, expressions) as code."""
    from ..format.markdown import text as md

    parts = cut(plain(value), limit).split("`")
    if len(parts) % 2 == 0:  # unbalanced backticks: all prose
        return md(str(value), limit)
    return "".join(_code(part, limit) if i % 2 else md(part, limit) for i, part in enumerate(parts))


def outcome_body(finding: dict[str, Any]) -> str:
    """The explanation of one finding in Markdown, at most 10,000 characters."""
    from ..findings import action_words
    from ..format.common import rule_name
    from ..format.markdown import text as md

    rule = str(finding.get("rule", ""))
    severity = str(finding.get("severity", ""))
    actions = [str(a) for a in finding.get("actions") or []]
    name = rule_name(rule)
    lines = [f"**{md(rule)}{' ' + md(name) if name else ''}** ({md(severity)}): {_code(finding.get('address', ''))}",
             "", _prose(finding.get("message") or finding.get("title") or ""), ""]
    reason = finding.get("action_reason")
    lines.append(f"- action: {md(action_words(actions))}" + (f" ({_code(reason)})" if reason else ""))
    where = _where(finding.get("location"))
    lines.append(f"- where: {_code(where)}" if where else "- where: no `.tf` location (the configuration was not read)")
    for value in finding.get("values") or []:
        if isinstance(value, dict):
            lines.append(f"- {_code(value.get('path', ''), 300)}: {_code(value.get('before') or '')} "
                         f"\u2192 {_code(value.get('after') or '')}")
    for key, value in (finding.get("facts") or {}).items():
        lines.append(f"- {md(str(key).replace('_', ' '), 100)}: {_code(value)}")
    chain = _chain_lines(list(finding.get("chain") or []))
    if chain:
        lines += ["", "**Why**, from the attribute that forces replacement back to its source:", *_code_block(chain)]
    fixes = [f for f in finding.get("fixes") or [] if isinstance(f, dict)]
    if fixes:
        lines += ["**Fixes**", ""] if lines[-1] == "" else ["", "**Fixes**", ""]
        for i, fix in enumerate(fixes, 1):
            fwhere = _where(fix.get("location"))
            lines.append(f"{i}\\. **{_prose(fix.get('title', ''), 300)}**" + (f" ({_code(fwhere)})" if fwhere else "")
                         + (f": {_prose(fix.get('detail'), 1500)}" if fix.get("detail") else ""))
            if fix.get("snippet"):
                lines += _code_block(str(fix["snippet"]).split("\n"))
            else:
                lines.append("")
    return _fit_lines(lines, BODY_MAX)


def _fit_lines(lines: list[str], limit: int) -> str:
    """Whole lines up to LIMIT characters (never half an escape or a code block line)."""
    note = "\n\n_Cut to fit HCP Terraform's limit; `replace-guard check --format json` has every detail._"
    text = "\n".join(lines).strip("\n")
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = len(note)
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept).rstrip("\n") + note


def outcome(finding: dict[str, Any]) -> dict[str, Any]:
    severity = str(finding.get("severity", "error"))
    tags = {
        "Severity": [{"label": cut(severity, TAG_LABEL_MAX), "level": _LEVEL.get(severity, "error")}],
        "Rule": [{"label": cut(plain(finding.get("rule", "?")), TAG_LABEL_MAX), "level": "none"}],
    }
    description = cut(plain(finding.get("title") or finding.get("message") or finding.get("rule") or "finding"),
                      DESCRIPTION_MAX)
    return {"type": "task-result-outcomes",
            "attributes": {"outcome-id": outcome_id(finding), "description": description,
                           "body": outcome_body(finding), "tags": tags}}


def outcomes(report: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """One outcome per finding, at most 250; and how many findings were left out."""
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    return [outcome(f) for f in findings[:OUTCOMES_MAX]], max(0, len(findings) - OUTCOMES_MAX)
