"""`replace-guard serve`: the HCP Terraform run task server against a fake HCP on loopback.

The server under test is the real application on uvicorn in a thread; the fake HCP
(tests/fake_hcp.py) is a real HTTP server in another. What is checked is what HCP and its users
see: the status codes of the POST, where the token went, and the one final callback per task
(status, message, outcomes with their Markdown, tags and limits).
"""

from __future__ import annotations

import copy
import html
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any, Self

import pytest

for _extra in ("starlette", "uvicorn", "httpx"):
    pytest.importorskip(_extra, reason="the server extra: pip install -e '.[test]'")

import httpx
import uvicorn
from fake_hcp import FakeHCP

from guard.server.app import create_app
from guard.server.protocol import signature
from guard.server.settings import Settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "ami-drift"
KEY = "run-task-hmac-key-for-tests"


def fast(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"plan_wait": 3.0, "poll_interval": 0.05, "backoff": 0.05, "backoff_max": 0.2,
                            "heartbeat": 60.0, "callback_attempts": 4, "shutdown_grace": 5.0, "concurrency": 2}
    base.update(overrides)
    return Settings(**base)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The run task app on uvicorn, in a thread, on a free loopback port."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def post(self, payload: dict[str, Any] | bytes, key: str | None = None, signature_header: str | None = None,
             ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "TFC/1.0 (+https://app.terraform.io; TFC)"}
        if signature_header is not None:
            headers["X-TFC-Task-Signature"] = signature_header
        elif key is not None:
            headers["X-Tfc-Task-Signature"] = signature(key.encode(), body)
        return httpx.post(self.url + "/run-task", content=body, headers=headers, timeout=10)


def targz(files: dict[str, bytes], links: dict[str, str] | None = None, hardlinks: dict[str, str] | None = None,
          ) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        for name, target in (hardlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.LNKTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


def example_config(prefix: str = "infra/") -> bytes:
    """The bundled example's .tf files, as a configuration version with them under PREFIX."""
    return targz({prefix + p.name: p.read_bytes() for p in sorted(EXAMPLE.glob("*.tf"))}
                 | {"README.md": b"# repo\n"})


def drift_plan() -> bytes:
    return (EXAMPLE / "plan.json").read_bytes()


def clean_plan() -> bytes:
    """The example plan with the instance left alone (no-op), as after pinning the image."""
    plan = json.loads(drift_plan())
    for rc in plan["resource_changes"]:
        if rc["address"] == "aws_instance.app":
            rc["change"]["actions"] = ["no-op"]
            rc["change"]["after"] = copy.deepcopy(rc["change"]["before"])
            rc["change"]["after_unknown"] = {}
            rc["change"].pop("replace_paths", None)
            rc.pop("action_reason", None)
    return json.dumps(plan).encode()


def rendered(markdown: str) -> str:
    """Roughly what a reader sees: backslash escapes and entities undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


def attributes(seen: Any) -> dict[str, Any]:
    return seen.json()["data"]["attributes"]


def outcome_list(seen: Any) -> list[dict[str, Any]]:
    return [o["attributes"] for o in seen.json()["data"].get("relationships", {}).get("outcomes", {}).get("data", [])]


@pytest.fixture
def hcp():
    fake = FakeHCP().start()
    yield fake
    fake.stop()


def assert_within_schema(seen: Any) -> None:
    """The limits of HCP's run task result schema, and JSON:API as HCP wants it."""
    assert seen.headers["content-type"] == "application/vnd.api+json"
    doc = seen.json()
    assert doc["data"]["type"] == "task-results"
    attrs = doc["data"]["attributes"]
    assert attrs["status"] in ("running", "passed", "failed")
    assert 1 <= len(attrs["message"]) <= 1000
    outcomes = outcome_list(seen)
    assert len(outcomes) <= 250
    for o in outcomes:
        assert 1 <= len(o["outcome-id"]) <= 64
        assert 1 <= len(o["description"]) <= 1000
        assert len(o["body"]) <= 10_000
        assert len(o["tags"]) <= 10
        for labels in o["tags"].values():
            for tag in labels:
                assert 1 <= len(tag["label"]) <= 32 and tag["level"] in ("none", "info", "warning", "error")


# ---------------------------------------------------------------------------
# the protocol's cases


def test_failing_plan_fails_with_one_outcome_per_finding_carrying_file_and_line(hcp: FakeHCP, caplog):
    caplog.set_level(logging.DEBUG)
    hcp.plans["p1"] = drift_plan()
    hcp.configs["cv1"] = example_config("infra/")
    with LiveServer(fast()) as server:
        started = time.monotonic()
        response = server.post(hcp.payload("tr1", "p1", "cv1", working_directory="/infra"))
        assert response.status_code == 200 and time.monotonic() - started < 1.0
        final = hcp.wait_final("tr1")
    attrs = attributes(final)
    assert attrs["status"] == "failed"
    assert "aws_instance.app" in attrs["message"] and "replaced" in attrs["message"]
    assert "Locations are missing" not in attrs["message"]
    assert_within_schema(final)
    (outcome,) = outcome_list(final)
    assert outcome["outcome-id"] == "TFG001-aws_instance.app"
    assert "picked a new image" in outcome["description"]
    assert outcome["tags"]["Severity"] == [{"label": "error", "level": "error"}]
    body = rendered(outcome["body"])
    assert "infra/main.tf:14" in body and "infra/main.tf:3" in body  # the chain, with file:line
    assert "most_recent = true" in body
    assert "ami-2acba0c8c6dd581f1" in body and "ami-eff36e2cc3dac1754" in body  # old and new
    assert "Pin the AMI" in body and 'ami = "ami-2acba0c8c6dd581f1"' in body  # the fix and its snippet
    # The token went to HCP's API only: never to the short-lived redirect targets.
    api = hcp.requests_to("/api/v2/")
    assert api and all(s.headers.get("authorization") == f"Bearer {hcp.token}" for s in api)
    archivist = hcp.requests_to("/archivist/")
    assert {s.path.split("?")[0] for s in archivist} == {"/archivist/plans/p1", "/archivist/cv/cv1"}
    assert all("authorization" not in s.headers for s in archivist)
    assert hcp.token not in caplog.text


def test_clean_plan_passes(hcp: FakeHCP):
    hcp.plans["p2"] = clean_plan()
    hcp.configs["cv2"] = example_config("")
    with LiveServer(fast()) as server:
        assert server.post(hcp.payload("tr2", "p2", "cv2")).status_code == 200
        final = hcp.wait_final("tr2")
    attrs = attributes(final)
    assert attrs["status"] == "passed"
    assert attrs["message"] == "replace-guard passed: no resource is destroyed or replaced unasked."
    assert outcome_list(final) == []
    assert_within_schema(final)


def test_plan_not_ready_at_first_is_asked_again(hcp: FakeHCP):
    hcp.plans["p3"] = drift_plan()
    hcp.plan_204["p3"] = 3
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr3", "p3", None))
        final = hcp.wait_final("tr3")
    assert attributes(final)["status"] == "failed"
    assert len([s for s in hcp.requests_to("/api/v2/plans/p3/")]) == 4  # three 204s, then the redirect
    # no configuration URL: the plan alone, and the message says locations are missing
    assert "Locations are missing" in attributes(final)["message"]
    (outcome,) = outcome_list(final)
    assert "no `.tf` location" in rendered(outcome["body"])


@pytest.mark.parametrize("case", ["404", "always-204", "500", "refused", "not-json"])
def test_unreadable_plan_still_gets_one_failed_answer_saying_why(hcp: FakeHCP, case: str):
    payload = hcp.payload("tr4", "p4", None)
    if case == "404":
        pass  # no such plan
    elif case == "always-204":
        hcp.plans["p4"] = drift_plan()
        hcp.plan_204["p4"] = 10_000
    elif case == "500":
        hcp.plan_status["p4"] = 500
    elif case == "refused":
        payload["plan_json_api_url"] = f"http://127.0.0.1:{free_port()}/api/v2/plans/p4/json-output"
    elif case == "not-json":
        hcp.plans["p4"] = b"<html>maintenance</html>"
    with LiveServer(fast(plan_wait=1.0)) as server:
        assert server.post(payload).status_code == 200
        final = hcp.wait_final("tr4", settle=0.5)
    attrs = attributes(final)
    assert attrs["status"] == "failed"
    assert attrs["message"].startswith("replace-guard could not read the plan: ")
    why = {"404": "HTTP 404", "always-204": "HTTP 204", "500": "HTTP 500", "refused": "could not connect",
           "not-json": "is not JSON"}[case]
    assert why in attrs["message"]
    assert_within_schema(final)


def test_test_request_gets_200_and_nothing_else(hcp: FakeHCP):
    payload = hcp.payload("tr5", "p5", "cv5", token="test-token")
    with LiveServer(fast()) as server:
        assert server.post(payload).status_code == 200
        # signed the same when a key is set
    with LiveServer(fast(hmac_key=KEY.encode())) as server:
        assert server.post(payload, key=KEY).status_code == 200
        time.sleep(0.5)
    assert hcp.seen == []


def test_pre_plan_passes_with_nothing_to_check(hcp: FakeHCP):
    with LiveServer(fast()) as server:
        assert server.post(hcp.payload("tr6", None, "cv6", stage="pre_plan")).status_code == 200
        final = hcp.wait_final("tr6")
    assert attributes(final) == {"status": "passed", "message": "nothing to check before the plan"}
    assert [s.method for s in hcp.seen] == ["PATCH"]  # nothing was fetched


def test_with_a_key_unsigned_and_wrongly_signed_requests_get_401_and_no_call(hcp: FakeHCP, caplog):
    hcp.plans["p7"] = drift_plan()
    payload = hcp.payload("tr7", "p7", None)
    with LiveServer(fast(hmac_key=KEY.encode())) as server:
        assert server.post(payload).status_code == 401
        assert server.post(payload, signature_header="").status_code == 401
        assert server.post(payload, key="another-key").status_code == 401
        body = json.dumps(payload).encode()
        tampered = body.replace(b'"mandatory"', b'"advisory"')
        assert server.post(tampered, signature_header=signature(KEY.encode(), body)).status_code == 401
        time.sleep(0.5)
        assert hcp.seen == []
        # correctly signed: accepted and answered; upper-case hex is the same signature
        assert server.post(body, signature_header=signature(KEY.encode(), body).upper()).status_code == 200
        final = hcp.wait_final("tr7")
    assert attributes(final)["status"] == "failed"
    assert KEY not in caplog.text and hcp.token not in caplog.text


def test_without_a_key_a_signed_request_is_refused(hcp: FakeHCP):
    with LiveServer(fast()) as server:
        response = server.post(hcp.payload("tr8", "p8", None), key=KEY)
    assert response.status_code == 400 and "REPLACE_GUARD_HMAC_KEY" in response.text
    assert hcp.seen == []


def test_not_a_run_task_request_is_400(hcp: FakeHCP):
    with LiveServer(fast()) as server:
        assert server.post(b"{not json").status_code == 400
        assert server.post(b"[1, 2]").status_code == 400
        no_callback = hcp.payload("tr9", "p9", None)
        del no_callback["task_result_callback_url"]
        assert server.post(no_callback).status_code == 400
        file_url = hcp.payload("tr9", "p9", None)
        file_url["plan_json_api_url"] = "file:///etc/passwd"
        assert server.post(file_url).status_code == 400
        assert server.post(b"x" * (2 << 20)).status_code == 413
        assert httpx.get(server.url + "/healthz").status_code == 200
    assert hcp.seen == []


def test_malicious_configuration_archive_writes_nothing_outside(hcp: FakeHCP, tmp_path: Path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    outside = tmp_path.parent / f"{tmp_path.name}-escaped.tf"
    archive = targz(
        {"infra/main.tf": (EXAMPLE / "main.tf").read_bytes(),
         f"../../{outside.name}": b"# escaped\n",
         f"infra/../../{outside.name}": b"# escaped\n",
         str(outside): b"# absolute\n"},
        links={"infra/passwd.tf": "/etc/passwd", "infra/up": "../../.."},
        hardlinks={"infra/hard.tf": "/etc/passwd"},
    )
    hcp.plans["p10"] = drift_plan()
    hcp.configs["cv10"] = archive
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr10", "p10", "cv10", working_directory="infra"))
        final = hcp.wait_final("tr10")
    attrs = attributes(final)
    assert attrs["status"] == "failed"
    assert "not unpacked" in attrs["message"]
    assert "infra/main.tf:14" in rendered(outcome_list(final)[0]["body"])  # the good file was used
    assert not outside.exists()
    assert list(tmp_path.iterdir()) == []  # and the task's folder is gone


def test_broken_or_missing_configuration_checks_the_plan_alone(hcp: FakeHCP):
    hcp.plans["p11"] = drift_plan()
    hcp.configs["cv11"] = b"\x1f\x8b not really gzip"
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr11", "p11", "cv11"))
        server.post(hcp.payload("tr12", "p11", "cv-missing"))
        server.post(hcp.payload("tr13", "p11", None, working_directory="nowhere"))
        bad, missing, nowd = (hcp.wait_final(t) for t in ("tr11", "tr12", "tr13"))
    assert "archive was not used" in attributes(bad)["message"]
    assert "not available (HTTP 404)" in attributes(missing)["message"]
    for final in (bad, missing, nowd):
        assert attributes(final)["status"] == "failed"
        assert "Locations are missing" in attributes(final)["message"]
        assert "aws_instance.app" in attributes(final)["message"]


def test_twenty_requests_at_once_are_all_answered_quickly_and_each_once(hcp: FakeHCP):
    hcp.plans["p20"] = drift_plan()
    hcp.plans["c20"] = clean_plan()
    hcp.configs["cv20"] = example_config("")
    ids = [f"tr-many-{i}" for i in range(20)]
    with LiveServer(fast(concurrency=2)) as server:
        results: dict[str, tuple[int, float]] = {}

        def send(i: int, result_id: str) -> None:
            started = time.monotonic()
            status = server.post(hcp.payload(result_id, "p20" if i % 2 else "c20", "cv20")).status_code
            results[result_id] = (status, time.monotonic() - started)

        threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate(ids)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        finals = {r: hcp.wait_final(r, timeout=120, settle=0) for r in ids}
        time.sleep(0.5)
    assert all(status == 200 for status, _ in results.values())
    assert max(elapsed for _, elapsed in results.values()) < 2.0, results
    for i, r in enumerate(ids):
        assert len(hcp.finals(r)) == 1
        assert attributes(finals[r])["status"] == ("failed" if i % 2 else "passed")


def test_the_same_task_sent_again_runs_once(hcp: FakeHCP):
    hcp.plans["p21"] = drift_plan()
    payload = hcp.payload("tr21", "p21", None)
    with LiveServer(fast()) as server:
        assert server.post(payload).status_code == 200
        assert server.post(payload).status_code == 200
        hcp.wait_final("tr21", settle=1.0)
    assert len(hcp.requests_to("/api/v2/plans/p21/")) == 1


def test_callback_is_retried_on_5xx_and_not_on_4xx(hcp: FakeHCP):
    hcp.plans["p22"] = clean_plan()
    hcp.callback_statuses["tr22"] = [500, 503, 200]
    hcp.callback_statuses["tr23"] = [401, 200]
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr22", "p22", None))
        server.post(hcp.payload("tr23", "p22", None))
        deadline = time.monotonic() + 30
        while (len(hcp.patches("tr22")) < 3 or not hcp.patches("tr23")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
    assert len(hcp.patches("tr22")) == 3  # two 5xx, then accepted
    assert len(hcp.patches("tr23")) == 1  # 401: not sent again


def test_outcomes_refused_sends_the_verdict_alone(hcp: FakeHCP):
    hcp.plans["p24"] = drift_plan()
    hcp.callback_statuses["tr24"] = [422, 200]
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr24", "p24", None))
        deadline = time.monotonic() + 30
        while len(hcp.patches("tr24")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    first, second = hcp.patches("tr24")
    assert outcome_list(first) and not outcome_list(second)
    assert attributes(second)["status"] == "failed"


def test_no_outcomes_capability_sends_no_outcomes(hcp: FakeHCP):
    hcp.plans["p25"] = drift_plan()
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr25", "p25", None, outcomes=False))
        final = hcp.wait_final("tr25")
    assert "relationships" not in final.json()["data"]
    assert "aws_instance.app" in attributes(final)["message"]


def test_running_updates_while_waiting_then_one_final(hcp: FakeHCP):
    hcp.plans["p26"] = drift_plan()
    hcp.plan_204["p26"] = 12
    with LiveServer(fast(heartbeat=0.15, poll_interval=0.1)) as server:
        server.post(hcp.payload("tr26", "p26", None))
        hcp.wait_final("tr26")
    statuses = [attributes(p)["status"] for p in hcp.patches("tr26")]
    assert statuses[-1] == "failed" and statuses.count("failed") == 1
    assert "running" in statuses and set(statuses[:-1]) == {"running"}


def test_stopping_the_server_answers_the_tasks_it_still_holds(hcp: FakeHCP):
    hcp.plans["p27"] = drift_plan()
    hcp.plan_204["p27"] = 10_000
    with LiveServer(fast(plan_wait=600, shutdown_grace=0.5)) as server:
        server.post(hcp.payload("tr27", "p27", None))
        time.sleep(0.5)
    final = hcp.wait_final("tr27", timeout=10)
    assert attributes(final)["status"] == "failed"
    assert "stopped" in attributes(final)["message"]


# ---------------------------------------------------------------------------
# the command


def test_serve_without_the_extra_says_how_to_install(monkeypatch):
    from click.testing import CliRunner

    from guard.cli import cli

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(cli, ["serve", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "pip install 'replace-guard[server]'" in result.output


def test_serve_command_runs_and_stops(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REPLACE_GUARD_HMAC_KEY"}
    proc = subprocess.Popen([sys.executable, "-m", "guard", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok\n"
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        # the port is taken now: a second server says so and exits 2
        second = subprocess.run([sys.executable, "-m", "guard", "serve", "--port", str(port)], env=env,
                                capture_output=True, text=True, timeout=30, check=False)
        assert second.returncode == 2 and "cannot listen there" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    # uvicorn stops cleanly on SIGTERM, then exits by the same signal (so: 0 or -15)
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Finished server process" in output and "Traceback" not in output
    assert "not authenticated" in output.lower()


def test_the_repository_config_applies(hcp: FakeHCP):
    """The .replace-guard.toml in the workspace's working directory counts, as for `check -C`."""
    hcp.plans["p28"] = drift_plan()
    files = {f"infra/{p.name}": p.read_bytes() for p in EXAMPLE.glob("*.tf")}
    files["infra/.replace-guard.toml"] = b'[severity]\nTFG001 = "warning"\n'
    hcp.configs["cv28"] = targz(files)
    with LiveServer(fast()) as server:
        server.post(hcp.payload("tr28", "p28", "cv28", working_directory="infra"))
        final = hcp.wait_final("tr28")
    attrs = attributes(final)
    assert attrs["status"] == "passed"
    assert attrs["message"] == "replace-guard passed: nothing at or above error (1 warning below it; see the outcomes)."
    (outcome,) = outcome_list(final)
    assert outcome["tags"]["Severity"] == [{"label": "warning", "level": "warning"}]
