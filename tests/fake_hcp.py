"""A fake HCP Terraform on loopback, for the run task server's tests (no tests in here).

A real HTTP server in a thread. It plays the parts of HCP that a run task integration talks to:
- `GET /api/v2/plans/<id>/json-output`: with the Bearer token, 307 to a short-lived
  `/archivist/plans/<id>?sig=...` URL that serves the plan JSON; `204` as many times as set
  first (the plan is not ready yet); a set HTTP status instead; 404 for an unknown plan;
- `GET /api/v2/configuration-versions/<id>/download`: 302 to `/archivist/cv/<id>`, which serves
  the `.tar.gz`; 404 when there is none;
- `PATCH /api/v2/task-results/<id>/callback`: records the callback; answers the statuses queued
  for it (e.g. 500 then 200), else 200.
Every request is recorded (method, path, headers) so that tests can check where the token went.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeHCP:
    token: str = "hcp-run-token-0123456789"
    plans: dict[str, bytes] = field(default_factory=dict)
    plan_204: dict[str, int] = field(default_factory=dict)  # plan id -> 204s before the plan
    plan_status: dict[str, int] = field(default_factory=dict)  # plan id -> status to answer always
    configs: dict[str, bytes] = field(default_factory=dict)
    callback_statuses: dict[str, list[int]] = field(default_factory=dict)  # task result -> statuses, in order
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _record(self) -> Seen:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                item = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.seen.append(item)
                    fake._lock.notify_all()
                return item

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if status != 204:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and status != 204:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                seen = self._record()
                parts = urlsplit(self.path).path.strip("/").split("/")
                authorised = seen.headers.get("authorization") == f"Bearer {fake.token}"
                if parts[:3] == ["api", "v2", "plans"] and len(parts) == 5:
                    pid = parts[3]
                    if not authorised:
                        return self._send(401)
                    if pid in fake.plan_status:
                        return self._send(fake.plan_status[pid])
                    with fake._lock:
                        if fake.plan_204.get(pid, 0) > 0:
                            fake.plan_204[pid] -= 1
                            return self._send(204)
                    if pid not in fake.plans:
                        return self._send(404)
                    return self._send(307, headers={"Location": f"/archivist/plans/{pid}?sig=short-lived"})
                if parts[:3] == ["api", "v2", "configuration-versions"] and len(parts) == 5:
                    cid = parts[3]
                    if not authorised:
                        return self._send(401)
                    if cid not in fake.configs:
                        return self._send(404)
                    return self._send(302, headers={"Location": f"http://{self.headers['Host']}/archivist/cv/{cid}"})
                if parts[:2] == ["archivist", "plans"] and parts[2] in fake.plans:
                    return self._send(200, fake.plans[parts[2]], {"Content-Type": "application/json"})
                if parts[:2] == ["archivist", "cv"] and parts[2] in fake.configs:
                    return self._send(200, fake.configs[parts[2]], {"Content-Type": "application/x-gzip"})
                return self._send(404)

            def do_PATCH(self) -> None:
                seen = self._record()
                parts = urlsplit(self.path).path.strip("/").split("/")
                if seen.headers.get("authorization") != f"Bearer {fake.token}":
                    return self._send(401)
                if parts[:3] == ["api", "v2", "task-results"] and parts[-1] == "callback":
                    with fake._lock:
                        queue = fake.callback_statuses.get(parts[3]) or []
                        status = queue.pop(0) if queue else 200
                    return self._send(status, b"{}", {"Content-Type": "application/vnd.api+json"})
                return self._send(404)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> FakeHCP:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what tests read ------------------------------------------------------------------------

    def payload(self, result_id: str, plan: str | None = None, config: str | None = None, *,
                stage: str = "post_plan", working_directory: str = "", outcomes: bool = True,
                token: str | None = None) -> dict[str, Any]:
        """A run task request as HCP sends it (all fields, as in the API docs' sample)."""
        body: dict[str, Any] = {
            "payload_version": 1, "stage": stage, "access_token": token or self.token,
            "capabilities": {"outcomes": outcomes},
            "configuration_version_download_url":
                f"{self.url}/api/v2/configuration-versions/{config}/download" if config else None,
            "configuration_version_id": config, "is_speculative": False,
            "organization_name": "acme", "workspace_id": "ws-123", "workspace_name": "prod",
            "workspace_app_url": "https://app.terraform.io/app/acme/prod",
            "workspace_working_directory": working_directory,
            "run_app_url": "https://app.terraform.io/app/acme/prod/runs/run-1", "run_created_at": "2026-01-01T00:00:00Z",
            "run_created_by": "someone", "run_id": f"run-{result_id}", "run_message": "Queued manually",
            "task_result_callback_url": f"{self.url}/api/v2/task-results/{result_id}/callback",
            "task_result_enforcement_level": "mandatory", "task_result_id": result_id,
            "vcs_branch": None, "vcs_commit_url": None, "vcs_pull_request_url": None, "vcs_repo_url": None,
            "project_id": "prj-1", "project_name": "Default Project",
        }
        if plan is not None:
            body["plan_json_api_url"] = f"{self.url}/api/v2/plans/{plan}/json-output"
        return body

    def patches(self, result_id: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method == "PATCH" and f"/task-results/{result_id}/" in s.path]

    def finals(self, result_id: str) -> list[Seen]:
        return [p for p in self.patches(result_id)
                if p.json()["data"]["attributes"]["status"] in ("passed", "failed")]

    def wait_final(self, result_id: str, timeout: float = 60.0, settle: float = 0.3) -> Seen:
        """The final callback of RESULT_ID, once it came (and nothing more came for SETTLE s)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.finals(result_id):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no final callback for {result_id} within {timeout} s; "
                                         f"saw {[(s.method, s.path) for s in self.seen]}")
                self._lock.wait(left)
        time.sleep(settle)
        finals = self.finals(result_id)
        assert len(finals) == 1, f"{len(finals)} final callbacks for {result_id}"
        return finals[0]

    def requests_to(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.startswith(prefix)]
