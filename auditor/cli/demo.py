"""``auditor demo``: the whole pipeline on the shipped sample data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli.options import quiet_option


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default="demo-output",
    show_default=True,
    help="Where to write the demo's warehouse and reports (a new directory, or one an earlier demo wrote).",
)
@quiet_option
def demo(out_dir: Path, quiet: bool) -> None:
    """Run the nightly flow over the shipped sample data, one day per night.

    Ten instances over October 2026 arrive one day file per night; each night
    ingests it and re-audits what it changes, and the last one renders the
    reports. Prints on stdout the warehouse and the reports' index.html;
    re-running rebuilds them.
    """
    chatty = not quiet and sys.stderr.isatty()
    from auditor.demo import run_demo  # Pillow loads only when the demo runs

    result = run_demo(out_dir, say=(lambda message: click.echo(message, err=True)) if chatty else None)
    click.echo(result.warehouse)
    if result.index is not None:
        click.echo(result.index)
    if not quiet:
        totals = [n.record for n in result.nights]
        click.echo(
            f"demo: {len(totals)} nights, {sum(r.events_accepted for r in totals)} lines accepted (events and polls), "
            f"{sum(r.events_rejected for r in totals)} rejected, {sum(r.events_duplicates for r in totals)} duplicates; "
            f"open {result.index}, or query the warehouse: auditor sql -w {result.warehouse} \"FROM instance_summary\"",
            err=True,
        )
