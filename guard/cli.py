"""The command line: a thin layer over load -> analyze -> format."""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import click

from . import __version__
from .errors import InputError, printable

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
@click.option("--fail-on", type=FAIL_ON, default=None,
              help="Exit 1 on findings at or above this level [default: error].")
@click.option("--config", "config_file", default=None,
              help="Config file (default: the nearest .replace-guard.toml or pyproject.toml [tool.replace-guard] "
                   "from the root module folder up to the repository root).")
@click.option("--allow", multiple=True, metavar="ADDRESS[:RULE]",
              help="Allow findings for a Terraform address pattern (repeatable); see the README's Config section.")
@click.option("--no-color", is_flag=True,
              help="No colour, even on a terminal or with FORCE_COLOR (NO_COLOR does the same).")
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
        report.fix_command = _fix_command(report, plans, directory)
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
                raise InputError(path, f"cannot write the {out_fmt} report ({exc.strerror})",
                                 "check the path") from None
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


def _fix_command(report, plans, directory) -> str | None:
    """`replace-guard fix ...` for this run, when some finding has an edit that command can make."""
    import shlex

    if not any(fix.edits for f in report.findings for fix in f.fixes):
        return None
    parts = ["replace-guard", "fix", *plans] + (["-C", str(directory)] if directory else [])
    return " ".join(shlex.quote(p) for p in parts)


@cli.command()
@click.argument("plans", nargs=-1, required=True)
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root module folder (default: the current folder or the plan's, when it holds .tf files).")
@click.option("--write", is_flag=True, help="Make the edits in place (default: print them as a unified diff).")
@click.option("--strategy", type=click.Choice(["auto", "pin", "ignore"]), default="auto", show_default=True,
              help="auto: pin where safe, else ignore_changes; pin: pins only (per key where a line is shared); "
                   "ignore: ignore_changes only (or a module's own switch).")
@click.option("--address", "addresses", multiple=True, metavar="ADDR",
              help="Only findings for this address (a glob; repeatable).")
@click.option("--rule", "rules_", multiple=True, metavar="ID", help="Only findings of this rule (repeatable).")
@click.option("--fail-on", type=FAIL_ON, default=None,
              help="Exit 1 when a finding at or above this level gets no edit [default: error].")
@click.option("--config", "config_file", default=None, help="Config file (default: as for check).")
@click.option("--allow", multiple=True, metavar="ADDRESS[:RULE]", help="Allow findings (as for check).")
@click.option("--terraform", default=None, help="terraform binary for binary plan files.")
def fix(plans, directory, write, strategy, addresses, rules_, fail_on, config_file, allow, terraform):
    """Write the fixes the findings carry: a diff on standard output, or in place with --write.

    One line per finding on standard error says which fix it takes, or why it has none. Exit 0
    when every finding at or above --fail-on got an edit (or there was none), 1 when some did not,
    2 for bad input.
    """
    from . import fixcmd
    from .rules import RULES_BY_ID

    try:
        unknown = [r for r in rules_ if r.upper() not in RULES_BY_ID]
        if unknown:
            raise InputError("--rule", f"no rule {unknown[0]!r}", "run `replace-guard rules` for the list")
        report = _run(plans, directory, config_file, fail_on, allow, terraform)
        root = Path(directory) if directory else None
        if root is None and report.analyses and report.analyses[0].graph.sources.root is not None:
            root = report.analyses[0].graph.sources.root
        fixed = fixcmd.run(report, strategy, write, tuple(addresses), tuple(rules_), root)
    except InputError as err:
        _fail(err)
    for line in fixcmd.summary_lines(fixed):
        click.echo(line, err=True)
    if not write:
        if fixed.diffs and root is not None and fixed.base is not None and fixed.base != root.resolve():
            click.echo(f"replace-guard: an edit is outside {printable(str(root))}: the diff's paths are relative "
                       f"to {printable(str(fixed.base))}; apply it there", err=True)
        click.echo("".join(fixed.diffs), nl=False)
    elif fixed.written:
        click.echo(f"replace-guard: edited {', '.join(fixed.written)}; plan again to see the result", err=True)
    missing = fixed.missing(report.fail_on)
    if not fixed.choices:
        click.echo("replace-guard: nothing to fix", err=True)
    elif missing:
        click.echo(f"replace-guard: {len(missing)} finding(s) at or above {report.fail_on} got no automatic edit",
                   err=True)
    sys.exit(1 if missing else 0)


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
@click.option("--config", "config_file", default=None,
              help="Config file (default: .replace-guard.toml or pyproject.toml).")
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
        click.echo(f"{rule.id}  {rule.severity_text or rule.severity.value:<13} {rule.name}: {rule.summary}")


def rule_doc(rule) -> str:
    parts = [f"{rule.id} {rule.name} (default: {rule.severity.value})", "", "What it finds", "  " + rule.summary,
             "", "Why it matters", _indent(rule.why), "", "Example", _indent(rule.example),
             "", "Fix", _indent(rule.fix)]
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


# ---------------------------------------------------------------------------
# replace-guard plan: terraform plan + show -json + check, in one command


def _find_terraform(name: str | None) -> str:
    import shutil

    wanted = name or "terraform"
    if os.sep in wanted or (os.altsep and os.altsep in wanted):
        if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
            return wanted
        raise InputError(wanted, "is not an executable file", "pass --terraform PATH of terraform or tofu")
    found = shutil.which(wanted)
    if not found:
        raise InputError(wanted, "is not on the PATH",
                         "install Terraform, or pass --terraform PATH (OpenTofu: --terraform tofu)")
    return found


def _terraform_plan(binary: str, root: Path, planfile: str, extra: tuple[str, ...], color: bool,
                    automation: bool) -> None:
    """`terraform plan -out=PLANFILE -input=false [EXTRA]` in ROOT; its output goes to stderr.

    Raises InputError with terraform's first error line when it fails.
    """
    import subprocess
    from collections import deque

    for arg in extra:
        if arg.split("=", 1)[0].lstrip("-") == "out":
            raise InputError(arg, "is set by replace-guard plan", "use --out FILE to keep the plan file")
    cmd = [binary, "plan", f"-out={planfile}", "-input=false", *([] if color else ["-no-color"]), *extra]
    env = dict(os.environ)
    if automation:  # no "run terraform apply <temporary file>" hint: that file is deleted
        env.setdefault("TF_IN_AUTOMATION", "1")
    try:
        proc = subprocess.Popen(cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env)
    except OSError as exc:
        raise InputError(binary, f"could not run ({exc.strerror or exc})", "pass --terraform PATH") from None
    tail: deque[str] = deque(maxlen=200)
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            click.echo(line, nl=False, err=True)
            tail.append(line)
        code = proc.wait()
    except KeyboardInterrupt:
        proc.wait()  # terraform got the interrupt too and stops cleanly
        raise
    detailed = any(a.split("=", 1)[0].lstrip("-") == "detailed-exitcode" for a in extra)
    if code == 0 or (detailed and code == 2):
        return
    errors = [ln.strip(" \u2502\u2577\u2575\n").removeprefix("Error: ") for ln in tail if "Error: " in ln]
    why = errors[0] if errors else (tail[-1].strip() if tail else "")
    name = Path(binary).name
    raise InputError(f"{name} plan in {root}", f"failed with exit code {code}" + (f": {why}" if why else ""),
                     f"fix what {name} printed above (run `{name} init` first in a new folder), then run again")


def _plan(ctx: click.Context, directory: Path | None, terraform: str | None, out: Path | None,
          terraform_args: tuple[str, ...], **check_options: object) -> None:
    """Run `terraform plan`, `terraform show -json` and the check, in one command.

    Terraform's own output goes to standard error, so that standard output holds only the
    report (`--format json` stays clean). Extra arguments for `terraform plan` go after `--`:

    \b
        replace-guard plan -C infra --format markdown -- -var env=prod -target=module.app

    The binary plan is kept only with --out FILE. Exit codes as for `check`; terraform failing
    is exit 2.
    """
    import shutil
    import tempfile

    temp: Path | None = None
    try:
        root = directory or Path.cwd()
        if not root.is_dir():
            raise InputError(str(root), "is not a directory", "-C takes the root module's folder")
        binary = _find_terraform(terraform)
        if out is None:
            temp = Path(tempfile.mkdtemp(prefix="replace-guard-plan-"))
            planfile = str(temp / "tfplan")
        else:
            planfile = str(out)
        color = not (check_options.get("no_color") or os.environ.get("NO_COLOR")) and sys.stderr.isatty()
        _terraform_plan(binary, root, str(Path(planfile).resolve()), terraform_args, color, automation=out is None)
        ctx.invoke(check, plans=(planfile,), directory=root, terraform=binary, **check_options)
    except InputError as err:
        _fail(err)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


plan = click.Command(
    "plan", callback=click.pass_context(_plan), help=_plan.__doc__,
    short_help="terraform plan + show -json + check, in one command.",
    params=[
        click.Option(["-C", "directory"], type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="The root module: where terraform plan runs and whose .tf files are read "
                          "[default: the current folder]."),
        click.Option(["--terraform"], default=None,
                     help="The terraform binary, or tofu [default: terraform on the PATH]."),
        click.Option(["--out"], type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Keep the binary plan in this file (for `terraform apply FILE`); "
                          "default: a temporary file, deleted afterwards."),
        # Every option of `check` (format, outputs, fail-on, config, allow, no-color, ...).
        *[p for p in check.params if p.name not in ("plans", "directory", "terraform")],
        click.Argument(["terraform_args"], nargs=-1, type=click.UNPROCESSED, metavar="[-- TERRAFORM PLAN ARGS]..."),
    ],
)
cli.add_command(plan)
