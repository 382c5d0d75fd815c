"""``auditor audit``: rebuild sessions and concurrency, judge them against entitlements."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click

from auditor.audit import run_audit
from auditor.cli.options import (
    Duration,
    allow_empty_entitlements_option,
    quiet_option,
    warehouse_option,
)
from auditor.errors import UsageError
from auditor.policy import Policy
from auditor.warehouse import Warehouse


@click.command()
@warehouse_option
@click.option("--entitlements", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The entitlements CSV; kept in the warehouse and reused when omitted.")
@allow_empty_entitlements_option
@click.option("--plans", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The plan catalogue (TOML); the built-in one when omitted.")
@click.option("--from", "period_from", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="First local day of the audited period (default: the first day with data).")
@click.option("--to", "period_to", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="Local day the period ends before (exclusive; default: after the last day with data).")
@click.option("--tolerance", type=Duration(), default="0", show_default=True,
              help="Time over a limit the recommended seat limit may leave, e.g. 15m.")
@click.option("--poll-interval", type=Duration(), default="5m", show_default=True,
              help="How often the polled instances were polled: an instant this close to a successful poll counts "
                   "as observed, and polls more than twice this apart leave a coverage gap.")
@quiet_option
def audit(warehouse: Path, entitlements: Path | None, allow_empty_entitlements: bool, plans: Path | None,
          period_from: datetime | None, period_to: datetime | None, tolerance: timedelta, poll_interval: timedelta,
          quiet: bool) -> None:
    """Rebuild sessions and exact concurrent seats from the warehouse's events.

    Writes the tables sessions, usage_steps, breaches, daily_usage and
    instance_summary (replacing earlier results); query them with `auditor sql`.
    The period [--from, --to) is in each instance's local time and applies to
    instance_summary; the other tables cover all the data. Example:

        auditor audit --entitlements entitlements.csv --from 2026-10-01 --to 2026-11-01
    """
    if poll_interval <= timedelta(0):
        raise UsageError("--poll-interval must be longer than 0, e.g. 5m")
    result = run_audit(
        Warehouse.open(warehouse),
        entitlements=entitlements,
        allow_empty_entitlements=allow_empty_entitlements,
        plans=plans,
        period_from=period_from.date() if period_from else None,
        period_to=period_to.date() if period_to else None,
        tolerance=tolerance,
        policy=Policy(poll_interval=poll_interval),
    )
    if not quiet:
        c = result.counts
        click.echo(
            f"audited {len(result.instances)} instance(s): {c.get('sessions', 0)} session segments, "
            f"{c.get('usage_steps', 0)} usage steps, {c.get('breaches', 0)} breaches, "
            f"{c.get('daily_usage', 0)} instance-days",
            err=True,
        )
