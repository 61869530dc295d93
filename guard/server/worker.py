"""One run task, from the accepted request to its one final callback.

Steps: read the plan JSON (`plan_json_api_url`, Bearer token; HCP redirects to a short-lived
URL, which gets no token; 204 = not ready yet, asked again), download and unpack the
configuration version when there is one, run `python -m guard check PLAN -C ROOT --format json`
in a subprocess (exactly the `check` command: same analysis, same config file handling, and a
crash or a huge plan cannot take the server down), and PATCH `passed` or `failed`.

Whatever happens (HTTP errors, a plan that never comes, a bad archive, the check failing, the
server stopping) the task gets one final answer; the token and the HMAC key are never logged or
sent anywhere but to HCP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx

from .archive import ArchiveError, Limits, source_root, unpack
from .protocol import (
    JSONAPI,
    Result,
    TaskRequest,
    callback_body,
    outcomes,
    plain,
    redact,
    verdict,
)
from .settings import HMAC_ENV, Settings

log = logging.getLogger("replace_guard.server")

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


class Unreadable(Exception):
    """The plan could not be read; the text says why (it goes into the `failed` message)."""


class Transient(Exception):
    """A connection error or a 5xx/429 answer: worth asking again."""


def _host(url: httpx.URL | str) -> str:
    """Where a request went, for messages: scheme and host, never a path's signature or query."""
    u = httpx.URL(str(url))
    return f"{u.scheme}://{u.host}" + (f":{u.port}" if u.port else "")


def _describe(exc: Exception) -> str:
    """An httpx error in a few words, without URLs (a redirect URL carries a signature)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__})"
    return type(exc).__name__


class Worker:
    """Runs tasks; owns the HTTP client. One per server."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient):
        self.settings = settings
        self.client = client
        self.slots = asyncio.Semaphore(max(1, settings.concurrency))

    # -- the task ----------------------------------------------------------------------------

    async def run(self, req: TaskRequest) -> None:
        """Handle one accepted request: always ends with one final callback attempt."""
        secrets = [req.access_token, (self.settings.hmac_key or b"").decode("utf-8", "replace")]
        heartbeat = asyncio.create_task(self._heartbeat(req))
        result: Result | None = None
        try:
            async with self.slots:
                result = await self._check(req)
        except asyncio.CancelledError:
            result = Result("failed", "replace-guard stopped before the check finished (the server was shut down); "
                                      "start the run again.")
            await self._final(req, result, secrets, heartbeat, attempts=1)
            raise
        except Exception as exc:  # never leave the task without an answer
            log.exception("%s: internal error", req.label)
            result = Result("failed", f"replace-guard could not check the plan: internal error ({type(exc).__name__}); "
                                      "the server log has the details.")
        await self._final(req, result, secrets, heartbeat)

    async def _final(self, req: TaskRequest, result: Result, secrets: list[str], heartbeat: asyncio.Task[None],
                     attempts: int | None = None) -> None:
        heartbeat.cancel()
        try:
            await heartbeat
        except asyncio.CancelledError:
            pass
        safe = Result(result.status, redact(result.message, secrets),
                      [json.loads(redact(json.dumps(o), secrets)) for o in result.outcomes or []] or None)
        ok = await self.callback(req, safe, attempts or self.settings.callback_attempts)
        log.info("%s: %s%s", req.label, safe.status, "" if ok else " (the callback was not accepted)")

    async def _heartbeat(self, req: TaskRequest) -> None:
        """`running` now and then, so that HCP's 10-minute timeout sees progress."""
        while True:
            await asyncio.sleep(self.settings.heartbeat)
            try:
                await self._patch(req, callback_body(Result("running", "replace-guard is checking the plan")))
            except (Transient, httpx.HTTPError):
                pass

    async def _check(self, req: TaskRequest) -> Result:
        if not req.plan_json_api_url:
            if req.stage == "pre_plan":
                return Result("passed", "nothing to check before the plan")
            return Result("failed", f"replace-guard could not check the plan: the {req.stage or 'run task'} request "
                                    "names no plan (no plan_json_api_url).")
        job = Path(tempfile.mkdtemp(prefix="replace-guard-task-"))
        try:
            plan = job / "plan.json"
            try:
                await self.fetch_plan(req, plan)
            except Unreadable as exc:
                return Result("failed", f"replace-guard could not read the plan: {exc}")
            notes: list[str] = []
            root, cwd = await self.fetch_sources(req, job, notes)
            return await self.analyse(req, plan, root, cwd, notes)
        finally:
            await asyncio.to_thread(shutil.rmtree, job, True)

    # -- HTTP --------------------------------------------------------------------------------

    async def _get(self, url: str, token: str, dest: Path, cap: int) -> int:
        """GET URL with the token, following redirects without it; a 200 body goes to DEST.

        Returns the final status (200, 204, 4xx); raises Transient on 5xx/429 and connection
        errors, Unreadable when the body is larger than CAP.
        """
        headers = {"Authorization": f"Bearer {token}"}
        target = httpx.URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                request = self.client.build_request("GET", target, headers=headers)
                response = await self.client.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                raise Transient(f"{_host(target)}: {_describe(exc)}") from None
            try:
                if response.status_code in REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        return response.status_code
                    target = target.join(location)
                    if target.scheme not in ("http", "https"):
                        raise Unreadable(f"{_host(url)} redirected to a {target.scheme}: URL")
                    headers = {}  # the token goes to HCP only, never to the redirect target
                    continue
                if response.status_code >= 500 or response.status_code == 429:
                    raise Transient(f"{_host(target)} answered HTTP {response.status_code}")
                if response.status_code != 200:
                    return response.status_code
                await self._save(response, dest, cap)
                return 200
            finally:
                await response.aclose()
        raise Unreadable(f"more than {MAX_REDIRECTS} redirects from {_host(url)}")

    @staticmethod
    async def _save(response: httpx.Response, dest: Path, cap: int) -> None:
        size = 0
        out = await asyncio.to_thread(open, dest, "wb")
        try:
            async for chunk in response.aiter_bytes(1 << 20):
                size += len(chunk)
                if size > cap:
                    raise Unreadable(f"it is larger than {cap // (1 << 20):,} MB")
                await asyncio.to_thread(out.write, chunk)
        except httpx.TransportError as exc:
            raise Transient(f"{_host(response.url)}: the download broke off ({_describe(exc)})") from None
        finally:
            out.close()

    async def fetch_plan(self, req: TaskRequest, dest: Path) -> None:
        """The plan JSON into DEST; raises Unreadable with the reason."""
        assert req.plan_json_api_url
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.plan_wait
        pause = self.settings.backoff
        while True:
            try:
                status = await self._get(req.plan_json_api_url, req.access_token, dest, self.settings.max_plan_bytes)
            except Transient as exc:
                if loop.time() + pause > deadline:
                    raise Unreadable(f"{exc} (gave up after {self.settings.plan_wait:g} s)") from None
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.settings.backoff_max)
                continue
            if status == 200:
                return
            if status == 204:
                if loop.time() + self.settings.poll_interval > deadline:
                    raise Unreadable(f"HCP Terraform still had no plan JSON after {self.settings.plan_wait:g} s "
                                     "(HTTP 204 No Content)")
                await asyncio.sleep(self.settings.poll_interval)
                continue
            raise Unreadable(_plan_status(status))

    async def fetch_sources(self, req: TaskRequest, job: Path, notes: list[str]) -> tuple[Path | None, Path]:
        """Download and unpack the configuration: (root module folder or None, folder to run in)."""
        url = req.configuration_version_download_url
        if not url:
            notes.append("Locations are missing: the request has no configuration download URL.")
            return None, job
        archive = job / "configuration.tar.gz"
        status = 0
        for attempt in range(3):
            try:
                status = await self._get(url, req.access_token, archive, self.settings.max_archive_bytes)
                break
            except Transient as exc:
                if attempt == 2:
                    notes.append(f"Locations are missing: the configuration could not be downloaded ({exc}).")
                    return None, job
                await asyncio.sleep(self.settings.backoff * 2 ** attempt)
            except Unreadable as exc:
                notes.append(f"Locations are missing: the configuration could not be downloaded ({exc}).")
                return None, job
        if status != 200:
            why = "not available (HTTP 404)" if status == 404 else f"refused (HTTP {status})"
            notes.append(f"Locations are missing: the configuration is {why}.")
            return None, job
        unpacked = job / "configuration"
        unpacked.mkdir()
        limits = Limits(self.settings.max_members, self.settings.max_unpacked_bytes, self.settings.max_file_bytes)
        try:
            done = await asyncio.to_thread(unpack, archive, unpacked, limits)
        except ArchiveError as exc:
            notes.append(f"Locations are missing: the configuration archive was not used: {exc}.")
            return None, job
        finally:
            archive.unlink(missing_ok=True)
        if done.unsafe or done.links:
            log.warning("%s: configuration archive: skipped %d unsafe path(s), %d link(s)",
                        req.label, len(done.unsafe), len(done.links))
        if note := done.skipped_note():
            notes.append(note)
        root, why = source_root(unpacked, req.working_directory)
        if root is None:
            notes.append(f"Locations are missing: {why}.")
            return None, job
        return root, unpacked

    async def callback(self, req: TaskRequest, result: Result, attempts: int) -> bool:
        """PATCH the final result; retry connection errors, 5xx and 429 with backoff, not 4xx.

        When HCP refuses the outcomes (422), the verdict is sent again without them: the task
        must get its answer.
        """
        body = callback_body(result)
        pause = self.settings.backoff
        for attempt in range(1, attempts + 1):
            try:
                status = await self._patch(req, body)
            except Transient as exc:
                if attempt == attempts:
                    log.error("%s: callback failed after %d attempts: %s", req.label, attempts, exc)
                    return False
                await asyncio.sleep(pause * (1 + random.random() / 4))
                pause = min(pause * 2, self.settings.backoff_max)
                continue
            if 200 <= status < 300:
                return True
            if status == 422 and result.outcomes:
                log.warning("%s: HCP refused the outcomes (HTTP 422); sending the verdict alone", req.label)
                body = callback_body(result, with_outcomes=False)
                result = Result(result.status, result.message)
                continue
            log.error("%s: HCP refused the callback: HTTP %d", req.label, status)
            return False
        return False

    async def _patch(self, req: TaskRequest, body: bytes) -> int:
        headers = {"Authorization": f"Bearer {req.access_token}", "Content-Type": JSONAPI, "Accept": JSONAPI}
        try:
            response = await self.client.patch(req.callback_url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise Transient(f"{_host(req.callback_url)}: {_describe(exc)}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"{_host(req.callback_url)} answered HTTP {response.status_code}")
        return response.status_code

    # -- the check ---------------------------------------------------------------------------

    async def analyse(self, req: TaskRequest, plan: Path, root: Path | None, cwd: Path, notes: list[str]) -> Result:
        """`python -m guard check` on the plan, as a user would run it; its JSON report -> Result."""
        args = [self.settings.python, "-m", "guard", "check", str(plan), "--format", "json", "--no-color"]
        if root is not None:
            args += ["-C", os.path.relpath(root, cwd)]
        env = {k: v for k, v in os.environ.items() if k != HMAC_ENV}
        env.update(NO_COLOR="1", PYTHONIOENCODING="utf-8")
        proc = await asyncio.create_subprocess_exec(*args, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.settings.check_timeout)
        except TimeoutError:
            return Result("failed", f"replace-guard could not check the plan: the check took longer than "
                                    f"{self.settings.check_timeout:g} s.")
        finally:
            if proc.returncode is None:  # timed out, or the server is stopping
                proc.kill()
                await proc.wait()
        text = err.decode("utf-8", "replace").replace(str(plan), "plan.json").replace(str(cwd) + os.sep, "")
        if proc.returncode == 2:
            why = " ".join(line.strip() for line in text.strip().splitlines()).removeprefix("replace-guard: error: ")
            return Result("failed", f"replace-guard could not read the plan: {plain(why) or 'exit code 2'}")
        if proc.returncode not in (0, 1):
            log.error("%s: check exited %s: %s", req.label, proc.returncode, text[-2000:])
            return Result("failed", f"replace-guard could not check the plan (exit code {proc.returncode}).")
        try:
            report: dict[str, Any] = json.loads(out)
        except ValueError:
            log.error("%s: the check wrote no JSON report: %s", req.label, text[-2000:])
            return Result("failed", "replace-guard could not check the plan: the check wrote no report.")
        listed: list[dict[str, Any]] | None = None
        if req.outcomes:
            listed, left = outcomes(report)
            if left:
                notes.append(f"{left} finding(s) beyond HCP's 250 outcomes are not listed.")
        status, message = verdict(report, proc.returncode or 0, notes)
        return Result(status, message, listed)


def _plan_status(status: int) -> str:
    if status == 401:
        return "HCP Terraform refused the token (HTTP 401)"
    if status == 403:
        return "HCP Terraform refused access to the plan (HTTP 403)"
    if status == 404:
        return "HCP Terraform has no plan JSON at the URL the request named (HTTP 404)"
    if status == 422:
        return "HCP Terraform has no JSON for this plan (HTTP 422: a Terraform release older than 0.12 made it)"
    return f"HCP Terraform answered HTTP {status}"
