"""``auditor report``: HTML compliance reports per instance, and the portfolio overview."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from auditor.cli.options import quiet_option, warehouse_option
from auditor.limits import MAX_REPORT_JOBS as MAX_JOBS
from auditor.warehouse import Warehouse


def _progress(quiet: bool) -> Callable[[str], None] | None:
    """Progress lines on stderr, only when stderr is a terminal (never mixed into piped data)."""
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console

    console = Console(stderr=True)
    return lambda message: console.print(f"[dim]{message}[/dim]")


@click.command()
@warehouse_option
@click.option(
    "--out", "-o", "out_dir", type=click.Path(path_type=Path, file_okay=False), default="reports",
    show_default=True, help="Where to write the reports and index.html.",
)
@click.option("--period", metavar="YYYY-MM", help="A calendar month. Default: the last full month in the data.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First local day of the period.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Local day after the period (exclusive, as in audit).")
@click.option("--instance", "-i", "instances", multiple=True, metavar="NAME", help="Only this instance (repeatable). The overview still lists all.")
@click.option("--eml", is_flag=True, help="Also write a ready-to-send .eml per report, to the account manager.")
@click.option("--plans", type=click.Path(path_type=Path, dir_okay=False), help="Plan catalogue with prices (default: the one the audit used).")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, MAX_JOBS), metavar="N",
    help=f"Processes that render (from 1 to {MAX_JOBS}). Default: the machine's cores ($AUDITOR_WORKERS lowers it), "
         "one for fewer than 16 reports. The files are the same whatever N.",
)
@quiet_option
def report(
    warehouse: Path,
    out_dir: Path,
    period: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    instances: tuple[str, ...],
    eml: bool,
    plans: Path | None,
    jobs: int | None,
    quiet: bool,
) -> None:
    """Write a concurrent-session report per instance, and OUT/index.html.

    Each report (OUT/INSTANCE/PERIOD.html, with PNG charts beside it) is in the
    customer's time zone and safe to e-mail. Prints the paths it wrote,
    index.html last. Example:

        auditor report --period 2026-10 --eml
    """
    from auditor.report import render_reports  # Pillow loads only when reports are made

    wh = Warehouse.open(warehouse)
    # The files it reads stay until the reports are written, whatever a nightly run commits meanwhile.
    with wh.reading():
        result = render_reports(
            wh,
            out_dir,
            period=period,
            date_from=date_from.date() if date_from else None,
            date_to=date_to.date() if date_to else None,
            instances=list(instances) or None,
            eml=eml,
            plans=plans,
            progress=_progress(quiet),
            workers=jobs,
        )
    if not quiet:
        for path in result.paths():
            click.echo(str(path))
