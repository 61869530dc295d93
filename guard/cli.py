"""The command line: a thin layer over load -> analyze -> format."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import InputError

FAIL_ON = click.Choice(["error", "warning", "notice", "never"])


def _formats() -> list[str]:
    from .format import FORMATS

    return list(FORMATS)


def _fail(err: InputError) -> None:
    click.echo(f"replace-guard: error: {err.text()}", err=True)
    sys.exit(2)


def _use_color(no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="replace-guard", message="%(prog)s %(version)s")
def cli() -> None:
    """Stop Terraform plans that destroy or replace resources nobody asked to."""


def _parse_outputs(values: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path or fmt not in _formats():
            raise InputError("--output", f"{value!r} is not FORMAT=PATH",
                             f"use one of {', '.join(_formats())}, e.g. --output sarif=guard.sarif")
        out.append((fmt, path))
    return out


def _run(plans, directory, config_file, fail_on, allow, terraform):
    from .analyze import analyze
    from .config import load_config, parse_allow_option
    from .load import load_plan

    if directory is not None and not Path(directory).is_dir():
        raise InputError(str(directory), "is not a directory", "-C takes the root module's folder")
    workdir = Path(directory) if directory else None
    config = load_config(config_file, workdir or Path.cwd())
    loaded = [load_plan(p, workdir, terraform) for p in plans]
    level = fail_on or config.fail_on or "error"
    return analyze(loaded, config, workdir, level, [parse_allow_option(a) for a in allow])


@cli.command()
@click.argument("plans", nargs=-1, required=True)
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root module folder: .tf sources for locals and file:line (default: the current folder "
                   "or the plan's, when it holds .tf files).")
@click.option("--format", "fmt", default="text", show_default=True, type=click.Choice(_formats()),
              help="Report format on standard output.")
@click.option("--output", "outputs", multiple=True, metavar="FORMAT=PATH", help="Also write a report to a file (repeatable).")
@click.option("--fail-on", type=FAIL_ON, default=None, help="Exit 1 on findings at or above this level [default: error].")
@click.option("--config", "config_file", default=None, help="Config file (default: .replace-guard.toml or pyproject.toml).")
@click.option("--allow", multiple=True, metavar="ADDRESS[:RULE]", help="Allow findings for an address glob (repeatable).")
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal.")
@click.option("--terraform", default=None, help="terraform binary for binary plan files.")
def check(plans, directory, fmt, outputs, fail_on, config_file, allow, no_color, terraform):
    """Check PLAN files (terraform show -json output, '-' for stdin, or binary plans)."""
    from .format import RenderOptions, get_formatter

    try:
        targets = _parse_outputs(outputs)
        report = _run(plans, directory, config_file, fail_on, allow, terraform)
        for out_fmt, path in targets:
            text = get_formatter(out_fmt).render(report, RenderOptions(color=False))
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(path, f"cannot write the {out_fmt} report ({exc.strerror})", "check the path") from None
        text = get_formatter(fmt).render(report, RenderOptions(color=fmt == "text" and _use_color(no_color)))
    except InputError as err:
        _fail(err)
    click.echo(text, nl=False)
    sys.exit(report.exit_code)


@cli.command()
@click.argument("plan")
@click.argument("address")
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root module folder (.tf sources).")
@click.option("--terraform", default=None, help="terraform binary for binary plan files.")
@click.option("--no-color", is_flag=True)
def explain(plan, address, directory, terraform, no_color):
    """The whole chain for one resource ADDRESS in PLAN."""
    from .explain import explain_address

    try:
        text, found = explain_address(plan, address, directory, terraform, _use_color(no_color))
    except InputError as err:
        _fail(err)
    click.echo(text, nl=False)
    sys.exit(0 if found else 2)


@cli.command()
@click.argument("rule_id", required=False)
def rules(rule_id):
    """Every rule (id, default severity, summary), or one rule in full."""
    from .rules import ALL_RULES, RULES_BY_ID

    if rule_id:
        rule = RULES_BY_ID.get(rule_id.upper())
        if rule is None:
            _fail(InputError(rule_id, "no such rule", "run `replace-guard rules` for the list"))
        click.echo(rule_doc(rule))
        return
    for rule in ALL_RULES:
        click.echo(f"{rule.id}  {rule.severity.value:<8} {rule.name}: {rule.summary}")


def rule_doc(rule) -> str:
    parts = [f"{rule.id} {rule.name} (default: {rule.severity.value})", "", "What it finds", "  " + rule.summary,
             "", "Why it matters", _indent(rule.why), "", "Example", _indent(rule.example), "", "Fix", _indent(rule.fix)]
    extra = getattr(rule, "advice_table", None)
    if extra:
        parts += ["", "Advice per attribute", _indent(extra())]
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines())


def main() -> None:
    try:
        cli.main(prog_name="replace-guard", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("replace-guard: interrupted", err=True)
        sys.exit(2)
    except SystemExit:
        raise
    except Exception as exc:  # never a traceback: say what broke and exit 2
        click.echo(f"replace-guard: error: internal error ({type(exc).__name__}: {exc}); "
                   "please report it with the command you ran", err=True)
        sys.exit(2)


# ---------------------------------------------------------------------------
# replace-guard serve: the HCP Terraform run task server (extra: server)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Checks that run at the same time; more requests wait their turn.")
def serve(host: str, port: int, concurrency: int) -> None:
    """HCP Terraform run task server: POST /run-task, GET /healthz.

    The HMAC key (the one set on the run task in HCP Terraform) comes from the environment
    variable REPLACE_GUARD_HMAC_KEY; without it requests are not authenticated.
    """
    try:
        import httpx  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        _fail(InputError("replace-guard serve", "needs the web server packages of the `server` extra",
                         "pip install 'replace-guard[server]'"))
    import socket

    from .server.app import run
    from .server.settings import Settings

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        _fail(InputError(f"{host}:{port}", f"cannot listen there ({exc.strerror or exc})",
                         "pick another --port, or stop what uses it"))
    run(host, port, Settings.from_env(concurrency))

