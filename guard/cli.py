"""The command line: a thin layer over load -> analyze -> format."""

from __future__ import annotations

import functools
import gc
import os
import sys
from pathlib import Path
from typing import Iterable, TextIO

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


def _use_color(no_color: bool, stream: TextIO | None = None) -> bool:
    """--no-color and NO_COLOR win; then FORCE_COLOR (any value but empty, 0 or false); then a terminal."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "").strip().lower() not in ("", "0", "false"):
        return True
    try:
        return (stream or sys.stdout).isatty()
    except (AttributeError, ValueError):
        return False


def _without_cycle_collection(command):
    """Run a one-shot command with Python's cyclic garbage collector paused.

    A large plan's analysis builds millions of small objects that form no reference cycles
    (decoded values, findings, report text) and lives until the process exits; the collector
    would walk them all again and again. Measured on 20,000 findings beside 80,000 unchanged
    resources (benchmarks/out/findings): 9.7 s of CPU with it, 5.7 s without, the same peak
    memory. Re-enabled afterwards (tests run commands in-process)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            # Turned on again, the collector would first walk everything the run left (0.24 s for
            # 20,000 findings): not when the process ends with the command (main()).
            if enabled and not _ONE_SHOT:
                gc.enable()

    return run


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


# Files a report must never overwrite: Terraform's own (besides the plans and the config of the run).
TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json", ".tfstate",
                      ".tfstate.backup", ".terraform.lock.hcl")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_output_paths(targets: list[tuple[str, str]], plans: tuple[str, ...] | list[str],
                        config_file: str | None) -> None:
    """Refuse, before anything is written, an --output that would overwrite an input of the run (a
    plan, the config file), a Terraform file, a config file, or another --output's report."""
    from .config import CONFIG_NAMES

    inputs = [(Path(p), "a plan this run reads") for p in plans if p != "-"]
    if config_file:
        inputs.append((Path(config_file), "the config file this run reads"))
    seen: dict[str, str] = {}
    for fmt, path in targets:
        ext = {"markdown": "md", "junit": "xml", "text": "txt", "github": "txt", "gitlab": "json"}.get(fmt, fmt)
        fix = f"write the report elsewhere, e.g. --output {fmt}=replace-guard.{ext}"
        if path == "-":
            key = "-"
        else:
            target = Path(path)
            name = target.name.lower()
            if name.endswith(TERRAFORM_SUFFIXES) or name in CONFIG_NAMES:
                raise InputError(path, f"--output {fmt}={path} would overwrite a Terraform or config file", fix)
            for source, what in inputs:
                if _same_file(target, source):
                    raise InputError(path, f"--output {fmt}={path} would overwrite {what}", fix)
            if target.is_dir():
                raise InputError(path, f"--output {fmt}={path} names a folder", fix)
            key = str(target.resolve())
        if key in seen:
            raise InputError(path, f"two reports would go to the same place (--output {seen[key]} and "
                                   f"--output {fmt}={path})", "give each --output its own path; `-` (standard "
                                                               "output) can take one")
        seen[key] = f"{fmt}={path}"


def _run(plans, directory, config_file, fail_on, allow, terraform, outputs: list[tuple[str, str]] | None = None):
    from .analyze import analyze, config_root
    from .config import load_config, parse_allow_option
    from .load import load_plan

    if directory is not None and not Path(directory).is_dir():
        raise InputError(str(directory), "is not a directory", "-C takes the root module's folder")
    workdir = Path(directory) if directory else None
    # The config is looked for where the .tf sources are read from (and up to the repository root).
    folders = [None if p == "-" else Path(p).resolve().parent for p in plans]
    config = load_config(config_file, config_root(workdir, folders))
    allows = [parse_allow_option(a) for a in allow]
    _check_output_paths(outputs or [], plans, config.file)
    loaded = [load_plan(p, workdir, terraform) for p in plans]
    level = fail_on or config.fail_on or "error"
    return analyze(loaded, config, workdir, level, allows)


@cli.command()
@click.argument("plans", nargs=-1, required=True)
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root module folder: .tf sources for locals and file:line (default: the current folder "
                   "or the plan's, when it holds .tf files).")
@click.option("--format", "fmt", default="text", show_default=True, type=click.Choice(_formats()),
              help="Report format on standard output.")
@click.option("--output", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write a report to a file (repeatable); PATH - is standard output, and the --format "
                   "report then goes to standard error.")
@click.option("--fail-on", type=FAIL_ON, default=None, help="Exit 1 on findings at or above this level [default: error].")
@click.option("--config", "config_file", default=None,
              help="Config file (default: the nearest .replace-guard.toml or pyproject.toml [tool.replace-guard] "
                   "from the root module folder up to the repository root).")
@click.option("--allow", multiple=True, metavar="ADDRESS[:RULE]",
              help="Allow findings for a Terraform address pattern (repeatable); see the README's Config section.")
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal or with FORCE_COLOR (NO_COLOR does the same).")
@click.option("--compact", is_flag=True, help="Text: one line per finding (path:line: severity - RULE address: title).")
@click.option("--terraform", default=None, help="terraform binary for binary plan files.")
@_without_cycle_collection
def check(plans, directory, fmt, outputs, fail_on, config_file, allow, no_color, compact, terraform):
    """Check PLAN files (terraform show -json output, '-' for stdin, or binary plans).

    `--output FORMAT=-` sends that report to standard output; the --format report then goes to
    standard error, so that standard output holds one document.
    """
    from .format import RenderOptions, get_formatter

    try:
        if compact and fmt != "text":
            raise InputError("--compact", f"has no {fmt} form", "use it with --format text (the default)")
        targets = _parse_outputs(outputs)
        report = _run(plans, directory, config_file, fail_on, allow, terraform, outputs=targets)
        to_stdout: str | Iterable[bytes] | None = None
        for out_fmt, path in targets:
            text = _render(get_formatter(out_fmt), report, RenderOptions(color=False))
            if path == "-":  # written after the --format report is made: kept whole till then
                to_stdout = text if isinstance(text, str) else list(text)
                continue
            try:
                if isinstance(text, str):
                    Path(path).write_text(text, encoding="utf-8")
                else:
                    with open(path, "wb") as fh:
                        fh.writelines(text)
            except OSError as exc:
                raise InputError(path, f"cannot write the {out_fmt} report ({exc.strerror})", "check the path") from None
        stream = sys.stderr if to_stdout is not None else sys.stdout
        color = fmt == "text" and _use_color(no_color, stream)
        text = _render(get_formatter(fmt), report, RenderOptions(color=color, compact=compact))
    except InputError as err:
        _fail(err)
    if to_stdout is not None:
        _echo(to_stdout, err=False, color=False)
    # color=True keeps the escapes that click would strip off a pipe (FORCE_COLOR).
    _echo(text, err=to_stdout is not None, color=color)
    if _ONE_SHOT:
        _LEFT_FOR_EXIT[:] = [report]  # freed by the process exit, not object by object (see main)
    sys.exit(report.exit_code)


def _render(formatter, report, options) -> str | Iterable[bytes]:
    """The report as text, or as UTF-8 pieces, made as they are written, for a format that writes
    large documents that way (the JSON of 20,000 findings: 90 MB, never held whole)."""
    if not options.color:
        pieces = formatter.render_bytes(report, options)
        if pieces is not None:
            return pieces
    return formatter.render(report, options)


def _echo(text: str | Iterable[bytes], err: bool, color: bool) -> None:
    if isinstance(text, str):
        click.echo(text, nl=False, err=err, color=color)
        return
    # Pieces go to the binary stream under the text one (flushed first), which buffers them:
    # click.echo would look the stream up and flush it for each of 20,000 pieces.
    stream = sys.stderr if err else sys.stdout
    out = getattr(stream, "buffer", None)
    if out is None:  # no binary stream under it: let click find a way
        for piece in text:
            click.echo(piece, nl=False, err=err)
        return
    stream.flush()
    for piece in text:
        out.write(piece)
    out.flush()


@cli.command()
@click.argument("plan")
@click.argument("address")
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root module folder (.tf sources).")
@click.option("--terraform", default=None, help="terraform binary for binary plan files.")
@click.option("--config", "config_file", default=None, help="Config file (default: .replace-guard.toml or pyproject.toml).")
@click.option("--no-color", is_flag=True)
@_without_cycle_collection
def explain(plan, address, directory, terraform, config_file, no_color):
    """The whole chain for one resource ADDRESS in PLAN."""
    from .config import load_config
    from .explain import explain_address

    try:
        if directory is not None and not Path(directory).is_dir():
            raise InputError(str(directory), "is not a directory", "-C takes the root module's folder")
        config = load_config(config_file, Path(directory) if directory else Path.cwd())
        color = _use_color(no_color)
        text, found = explain_address(plan, address, directory, terraform, color, config)
    except InputError as err:
        _fail(err)
    click.echo(text, nl=False, color=color)
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


# The report of a finished `check`: millions of objects for a large plan. Freeing them one by one
# took 0.3 s of a 4 s run (20,000 findings); main() ends the process without that.
_LEFT_FOR_EXIT: list = []
# True when the process ends with the command (main(), the console script and `python -m guard`);
# False when commands run in-process (tests with CliRunner).
_ONE_SHOT = False


def _exit_now(code: object) -> None:
    """End the process at once, once its output is flushed; return when it cannot (then the
    ordinary exit reports what went wrong)."""
    if code is not None and not isinstance(code, int):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code or 0)


def main() -> None:
    global _ONE_SHOT
    _ONE_SHOT = True
    try:
        cli.main(prog_name="replace-guard", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("replace-guard: interrupted", err=True)
        sys.exit(2)
    except SystemExit as exc:
        if _LEFT_FOR_EXIT:
            _exit_now(exc.code)
        raise
    except Exception as exc:  # never a traceback: say what broke and exit 2
        click.echo(f"replace-guard: error: internal error ({type(exc).__name__}: {exc}); "
                   "please report it with the command you ran", err=True)
        sys.exit(2)
