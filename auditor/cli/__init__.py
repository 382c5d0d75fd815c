"""The ``auditor`` command: a thin Click shell over the library.

Each command lives in its own module beside this one and is registered below.
Library errors (``auditor.errors``) become one line on stderr and their exit
code here, in one place; ``--debug`` shows the traceback instead. An OSError the
library did not turn into one of its own errors is still one line (exit 1).
Library warnings (``AuditorWarning``: the run succeeded, but something after its
commit did not) become one line each, ``auditor: warning: ...``, and leave the
exit status alone.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

import click

from auditor import __version__
from auditor.errors import AuditorError, AuditorWarning
from auditor.exitcodes import ExitCode


class AuditorGroup(click.Group):
    """A group whose errors are one line each, with documented exit codes."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv[: _first_command_index(argv)]
        with warnings.catch_warnings():
            _show_auditor_warnings()
            try:
                rv = super().main(argv, prog_name or "auditor", complete_var, standalone_mode=False, **extra)
            except click.UsageError as exc:
                where = exc.ctx.command_path if exc.ctx else "auditor"
                message = " ".join(exc.format_message().split())
                click.echo(f"{where}: error: {message} (see '{where} --help')", err=True)
                sys.exit(ExitCode.USAGE)
            except click.ClickException as exc:
                click.echo(f"auditor: error: {' '.join(exc.format_message().split())}", err=True)
                sys.exit(exc.exit_code)
            except click.Abort:
                click.echo("auditor: interrupted", err=True)
                sys.exit(ExitCode.FAILED)
            except AuditorError as exc:
                if debug:
                    traceback.print_exc()
                click.echo(f"auditor: error: {' '.join(str(exc).split())}", err=True)
                sys.exit(int(exc.exit_code))
            except OSError as exc:
                # The system refused something the library did not foresee (a full disk, a
                # vanished directory): still one line, and the run failed.
                if debug:
                    traceback.print_exc()
                click.echo(f"auditor: error: {' '.join(str(exc).split())}", err=True)
                sys.exit(ExitCode.FAILED)
            sys.exit(int(rv or 0))


def _show_auditor_warnings() -> None:
    """Print each distinct AuditorWarning as one line on stderr (inside ``warnings.catch_warnings``).

    Other warnings keep Python's usual display.
    """
    shown: set[str] = set()
    default = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if not issubclass(category, AuditorWarning):
            default(message, category, filename, lineno, file, line)
            return
        text = " ".join(str(message).split())
        if text not in shown:
            shown.add(text)
            click.echo(f"auditor: warning: {text}", err=True)

    warnings.simplefilter("always", AuditorWarning)
    warnings.showwarning = show


def _first_command_index(argv: list[str]) -> int:
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            return i
    return len(argv)


@click.group(cls=AuditorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
def cli(debug: bool) -> None:
    """Audit ERP.net instances licensed by concurrent sessions.

    Connection logs go into a warehouse (ingest), sessions and exact concurrency
    are rebuilt and judged against entitlements (audit), and HTML reports are
    written for account managers (report). `auditor nightly` does all of it,
    incrementally; `auditor collect` polls live instances into snapshot files
    for it. Exit codes: 0 ok, 1 run failed, 2 usage error,
    3 new breaches (nightly --fail-on-breach).
    """


def main() -> None:
    cli.main(prog_name="auditor")


def _register() -> None:
    from auditor.cli import sql as sql_cmd

    cli.add_command(sql_cmd.sql)
    from auditor.cli import ingest as ingest_cmd; cli.add_command(ingest_cmd.ingest)  # noqa: E702
    from auditor.cli import nightly as nightly_cmd; cli.add_command(nightly_cmd.nightly)  # noqa: E702
    from auditor.cli import report as report_cmd; cli.add_command(report_cmd.report)  # noqa: E702
    from auditor.cli import audit as audit_cmd; cli.add_command(audit_cmd.audit)  # noqa: E702
    from auditor.cli import generate as generate_cmd; cli.add_command(generate_cmd.generate)  # noqa: E702
    from auditor.cli import demo as demo_cmd; cli.add_command(demo_cmd.demo)  # noqa: E702
    from auditor.cli import collect as collect_cmd; cli.add_command(collect_cmd.collect)  # noqa: E702


_register()
