"""Knobs of the run task server: limits, timeouts and retries, with production defaults."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

HMAC_ENV = "REPLACE_GUARD_HMAC_KEY"

MiB = 1 << 20


@dataclass(frozen=True)
class Settings:
    hmac_key: bytes | None = field(default=None, repr=False)  # never printed
    concurrency: int = 2  # checks (downloads + analysis) that run at the same time
    # Reading the plan: HCP answers 204 until the plan JSON is ready.
    plan_wait: float = 300.0  # seconds to keep asking while it answers 204 (or 5xx)
    poll_interval: float = 5.0
    http_timeout: float = 60.0  # per request (connect, and between bytes of a download)
    # The callback: retried on connection errors, 5xx and 429, with doubling pauses.
    callback_attempts: int = 6
    backoff: float = 1.0
    backoff_max: float = 30.0
    # A `running` update while a task waits or works, so that HCP (10 minutes without an
    # update and the task errors) sees progress on a busy server.
    heartbeat: float = 240.0
    check_timeout: float = 1800.0  # the analysis subprocess
    shutdown_grace: float = 30.0  # on stop: wait this long for running tasks, then answer them `failed`
    max_request_bytes: int = 1 * MiB  # the run task request itself
    max_plan_bytes: int = 2048 * MiB
    max_archive_bytes: int = 256 * MiB  # the configuration .tar.gz as downloaded
    max_unpacked_bytes: int = 1024 * MiB  # sum of the sizes its entries declare
    max_file_bytes: int = 16 * MiB  # one unpacked file
    max_members: int = 100_000
    python: str = sys.executable  # runs `python -m guard check`
    recent_results: int = 10_000  # task result ids remembered, to run each task once

    @staticmethod
    def from_env(concurrency: int = 2) -> Settings:
        key = os.environ.get(HMAC_ENV, "")
        return Settings(hmac_key=key.encode("utf-8") if key else None, concurrency=concurrency)
