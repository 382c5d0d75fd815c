"""``auditor nightly``: the unattended nightly batch."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from auditor.cli.options import allow_empty_entitlements_option, input_bounds_options, quiet_option, warehouse_option
from auditor.exitcodes import ExitCode
from auditor.limits import InputBounds
from auditor.warehouse import Warehouse


@click.command()
@warehouse_option
@click.option(
    "--logs",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False, readable=True),
    help="The folder the connection logs arrive in (read recursively; files already ingested are recognised by content).",
)
@click.option(
    "--entitlements",
    type=click.Path(path_type=Path, exists=True, dir_okay=False, readable=True),
    help="Entitlements CSV; when it differs from the one stored, the run audits everything again.",
)
@allow_empty_entitlements_option
@click.option(
    "--plans",
    type=click.Path(path_type=Path, exists=True, dir_okay=False, readable=True),
    help="Plan catalogue (TOML); when it differs from the one stored, the run audits everything again.",
)
@click.option(
    "--reports",
    type=click.Path(path_type=Path, file_okay=False),
    help="Re-render the affected instances' reports and the overview into this folder.",
)
@click.option("--fail-on-breach", is_flag=True, help="Exit with status 3 when the run found new breaches.")
@click.option("--fail-on-finding", is_flag=True,
              help="Exit with status 3 when the run found new licence-term findings (table findings).")
@input_bounds_options
@quiet_option
def nightly(
    warehouse: Path,
    logs: Path,
    entitlements: Path | None,
    allow_empty_entitlements: bool,
    plans: Path | None,
    reports: Path | None,
    fail_on_breach: bool,
    fail_on_finding: bool,
    bounds: InputBounds,
    quiet: bool,
) -> int:
    """Ingest new logs, re-audit what they change, re-render the affected reports.

    Meant for a scheduler: only new files are read, only the instances and days
    they touch are audited again, and the run is recorded in the warehouse's
    nightly_runs table. One line on stderr sums it up; the paths of rendered
    reports go to stdout (index.html last).

    Exit status: 0 done; 1 the run failed or another run holds the warehouse (the
    next run finishes what a failed one left); 2 usage error; 3 with
    --fail-on-breach, the run found new breaches, or with --fail-on-finding, new
    licence-term findings.
    """
    from auditor.nightly import run_nightly, summary_line  # Pillow loads only when a night runs

    bounds.window(datetime.now(timezone.utc))  # before the warehouse is created
    result = run_nightly(
        Warehouse.open(warehouse, create=True),
        logs,
        entitlements=entitlements,
        allow_empty_entitlements=allow_empty_entitlements,
        plans=plans,
        reports=reports,
        progress=not quiet and sys.stderr.isatty(),
        bounds=bounds,
    )
    for path in result.report_paths:
        click.echo(str(path))
    if not quiet:
        if result.took_over_from:
            click.echo(f"auditor: took over the lock left by {result.took_over_from}, which is no longer running", err=True)
        click.echo(summary_line(result), err=True)
    if fail_on_breach and result.record.new_breaches > 0:
        return int(ExitCode.BREACHES_FOUND)
    if fail_on_finding and (result.record.new_findings or 0) > 0:
        return int(ExitCode.FINDINGS_FOUND)
    return int(ExitCode.OK)
