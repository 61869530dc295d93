"""The web application: `POST /run-task`, `GET /healthz`; and `run()`, which serves it with uvicorn.

`POST /run-task` answers within milliseconds: it checks the signature over the raw body, reads
the request, and hands the work to a background task (at most `Settings.concurrency` checks run
at once; the others wait their turn, with `running` updates so that HCP sees progress). A request
for a task result already taken is answered 200 and not run again (HCP sends a request again
when it did not get 200 in time).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .. import __version__
from .protocol import SIGNATURE_HEADER, BadRequest, TaskRequest, signature_ok
from .settings import HMAC_ENV, Settings
from .worker import Worker

log = logging.getLogger("replace_guard.server")


class TooLarge(Exception):
    pass


class RunTaskServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.worker: Worker | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.recent: OrderedDict[str, None] = OrderedDict()

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(self.settings.http_timeout, connect=min(15.0, self.settings.http_timeout))
        headers = {"User-Agent": f"replace-guard/{__version__} (run task)"}
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers=headers) as client:
            self.worker = Worker(self.settings, client)
            if self.settings.hmac_key is None:
                log.warning("%s is not set: run task requests are NOT authenticated. Anyone who can reach this "
                            "server can make it fetch URLs with a token of their choice; set an HMAC key on the "
                            "run task in HCP Terraform and the same key in %s.", HMAC_ENV, HMAC_ENV)
            else:
                log.info("run task requests must carry a valid HMAC-SHA512 signature (%s)", HMAC_ENV)
            try:
                yield
            finally:
                await self.drain()
                self.worker = None

    async def drain(self) -> None:
        """On stop: let running tasks finish for a while, then stop them (each still answers `failed`)."""
        if not self.tasks:
            return
        log.info("stopping: waiting up to %g s for %d task(s)", self.settings.shutdown_grace, len(self.tasks))
        _, pending = await asyncio.wait(set(self.tasks), timeout=self.settings.shutdown_grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _body(self, request: Request) -> bytes:
        limit = self.settings.max_request_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _remember(self, key: str) -> bool:
        """True the first time KEY is seen (within the last `recent_results` keys)."""
        if key in self.recent:
            return False
        self.recent[key] = None
        while len(self.recent) > self.settings.recent_results:
            self.recent.popitem(last=False)
        return True

    async def run_task(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except TooLarge:
            return PlainTextResponse("request too large\n", status_code=413)
        given = request.headers.get(SIGNATURE_HEADER)
        key = self.settings.hmac_key
        if key is not None:
            if not signature_ok(key, body, given):
                log.warning("refused a run task request from %s: %s", request.client.host if request.client else "?",
                            "wrong signature" if given else "no signature")
                return PlainTextResponse("missing or wrong X-TFC-Task-Signature\n", status_code=401)
        elif given:
            log.warning("refused a signed run task request: this server has no HMAC key (set %s)", HMAC_ENV)
            return PlainTextResponse(f"this server has no HMAC key; set {HMAC_ENV} to the run task's key\n",
                                     status_code=400)
        try:
            task_request = TaskRequest.parse(body)
        except BadRequest as exc:
            return PlainTextResponse(f"not a run task request: {exc}\n", status_code=400)
        if task_request.is_test:
            log.info("answered HCP Terraform's test request")
            return Response(status_code=200)
        worker = self.worker
        if worker is None:
            return PlainTextResponse("starting or stopping\n", status_code=503)
        if not self._remember(task_request.task_result_id or task_request.callback_url):
            log.info("%s: already taken; not run again", task_request.label)
            return Response(status_code=200)
        log.info("%s: accepted (%s, workspace %s/%s)", task_request.label, task_request.stage or "?",
                 task_request.organization_name or "?", task_request.workspace_name or "?")
        task = asyncio.create_task(worker.run(task_request))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return Response(status_code=200)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")


def create_app(settings: Settings) -> Starlette:
    server = RunTaskServer(settings)
    app = Starlette(routes=[Route("/run-task", server.run_task, methods=["POST"]),
                            Route("/healthz", server.healthz, methods=["GET"])],
                    lifespan=server.lifespan)
    app.state.server = server
    return app


def run(host: str, port: int, settings: Settings) -> None:
    """Serve until stopped (Ctrl-C, SIGTERM): uvicorn, one process."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every URL it calls at INFO; a redirect target's URL carries a signature.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log.info("replace-guard %s run task server on http://%s:%d/run-task (%d check(s) at a time)",
             __version__, host, port, settings.concurrency)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", server_header=False,
                timeout_graceful_shutdown=int(settings.shutdown_grace) + 5)
