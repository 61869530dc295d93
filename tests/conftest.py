"""Shared pytest fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# ---------------------------------------------------------------------------
# Real Terraform plans (tests/realtf.py, tests/scenarios/): moto_server, real_plans.
# Built once per session, on first use, all scenarios in parallel (a few minutes of
# CPU in all). Where terraform, the provider mirror or moto is missing, every test
# using these fixtures is skipped with a reason naming what is missing.

sys.path.insert(0, str(Path(__file__).parent))
import realtf  # noqa: E402


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """A moto server (a local fake AWS) for the session; ``.url``, ``.port``, ``.client()``."""
    if not realtf.moto_available():
        pytest.skip("moto server needs moto[server] and boto3 (pip install 'moto[server]' boto3)")
    server = realtf.MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_plans(request, tmp_path_factory) -> realtf.RealPlans:
    """Scenario name -> realtf.Built (dir, plan_json_path, planfile_path, name, values).

    A scenario that failed to build raises when looked up, with Terraform's stderr.
    """
    reuse = os.environ.get("REPLACE_GUARD_REALTF_DIR")
    if reuse:  # developers only: plans built earlier by `python tests/realtf.py --workdir DIR`
        return realtf.RealPlans(*realtf.load_built(Path(reuse)))
    reason = realtf.skip_reason()
    if reason:
        pytest.skip(reason)
    server = request.getfixturevalue("moto_server")
    built, failed = realtf.build_all(server, tmp_path_factory.mktemp("realtf"))
    return realtf.RealPlans(built, failed)
