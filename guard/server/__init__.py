"""`replace-guard serve`: an HCP Terraform (Terraform Cloud / Enterprise) run task server.

HCP Terraform POSTs a run task request to `/run-task`; the server answers 200 at once, then in
the background reads the plan JSON and the configuration with the request's token, runs the same
check as `replace-guard check`, and PATCHes one final result (`passed` or `failed`) with one
outcome per finding. The protocol, and the choices made where it leaves room, are in
RUN-TASKS.md of the project (section 5 is the contract).

Modules:
- `protocol`: the request, its signature, and the callback body (message and outcomes); no
  web framework needed.
- `archive`: safe unpacking of the configuration version (`.tar.gz`).
- `worker`: one task from request to final callback (httpx, a `check` subprocess).
- `app`: the Starlette application and `run()` (uvicorn).

The web packages come with the `server` extra (`pip install 'replace-guard[server]'`); only
`app` and `worker` import them.
"""

from __future__ import annotations

from .settings import Settings

__all__ = ["Settings"]
