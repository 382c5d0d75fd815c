"""``auditor generate``: deterministic sample connection logs or snapshot files, and entitlements."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import click
from click.core import ParameterSource

from auditor.cli.options import Duration, quiet_option
from auditor.errors import UsageError
from auditor.generate import DEFAULT_START, GenerateResult, generate as run_generate, prepare_out_dir
from auditor.generate.sample import build_sample
from auditor.generate.snapfiles import SNAPSHOT_NAME, SNAPSHOTS_DIR, SnapshotResult, generate_snapshots

# The options that shape a random data set, which --sample does not take.
_SIZE_OPTIONS = {
    "seed": "--seed",
    "instances": "--instances",
    "days": "--days",
    "start": "--start",
    "fmt": "--format",
    "compression": "--compression",
    "files_per_day": "--files-per-day",
    "poll_every": "--poll-every",
}
# The options that only snapshots (or --sample) take.
_SNAPSHOT_OPTIONS = {"poll_every": "--poll-every", "truth": "--truth"}


@click.command()
@click.option("--seed", type=int, help="Random seed: the same seed gives byte-identical files. Required unless --sample.")
@click.option("--instances", type=int, help="How many instances to generate. Required unless --sample.")
@click.option("--days", type=int, help="How many UTC days of logs, one file per day. Required unless --sample.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="The first UTC day (YYYY-MM-DD).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "snapshots"]),
    default="jsonl",
    show_default=True,
    help="Log file format, or `snapshots`: polls of each instance's current sessions and audit log, in OUT/snapshots.",
)
@click.option(
    "--compression", type=click.Choice(["none", "gz", "zst"]), default="none", show_default=True, help="Compress each file."
)
@click.option(
    "--files-per-day",
    type=click.IntRange(min=1),
    help="Split each day's lines over N files: by instance for logs (default 1), shuffled for snapshots (default 3).",
)
@click.option(
    "--poll-every",
    type=Duration(),
    default="5m",
    show_default=True,
    help="Snapshots only: how often the collector polls each instance (each poll up to 15 s late).",
)
@click.option(
    "--truth",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Snapshots (or --sample) only: also write every true session of the polled instances to this JSON Lines file (.gz or .zst to compress).",
)
@click.option("--overwrite", is_flag=True, help="Replace the files an earlier run wrote into OUT.")
@click.option("--sample", is_flag=True, help="Write the shipped sample_data/ set instead (fixed fleet, mixed formats, hand-made defects).")
@quiet_option
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
def generate(
    seed: int | None,
    instances: int | None,
    days: int | None,
    start: datetime,
    fmt: str,
    compression: str,
    files_per_day: int | None,
    poll_every: timedelta,
    truth: Path | None,
    overwrite: bool,
    sample: bool,
    quiet: bool,
    out: Path,
) -> None:
    """Write generated connection logs to OUT/logs and entitlements to OUT/entitlements.csv.

    One log file per UTC day (OUT/logs/YYYY-MM-DD.jsonl), so that a nightly
    batch can take them day by day. Prints the two paths on stdout. Example:

        auditor generate --seed 1 --instances 100 --days 30 data/

    With --format snapshots, polled instances instead: OUT/snapshots/DAY_NN.jsonl
    holds what a collector polling every --poll-every saw of each instance's
    true sessions (failed polls, an outage, an old server, audit-log rows), in
    shuffled order with a few lines twice; --truth FILE writes the true sessions.

    `auditor generate --sample --overwrite sample_data` rewrites the shipped
    sample data.
    """
    ctx = click.get_current_context()
    if fmt != "snapshots" and not sample:
        given = [flag for name, flag in _SNAPSHOT_OPTIONS.items() if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if given:
            raise UsageError(f"{', '.join(given)} only go with --format snapshots")
    if sample:
        given = [flag for name, flag in _SIZE_OPTIONS.items() if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if given:
            raise UsageError(f"--sample writes a fixed data set; drop {', '.join(given)}")
        prepare_out_dir(out, overwrite=overwrite)
        prepare_out_dir(out, overwrite=overwrite, sub=SNAPSHOTS_DIR, names=SNAPSHOT_NAME)
        result = build_sample(out, truth=truth)
        paths = [result.out_dir / "logs", result.out_dir / SNAPSHOTS_DIR, result.entitlements]
        summary = _summary(result)
    else:
        missing = [f"--{name}" for name, value in (("seed", seed), ("instances", instances), ("days", days)) if value is None]
        if missing:
            raise UsageError(f"missing {', '.join(missing)}: say how much to generate (or pass --sample)")
        assert seed is not None and instances is not None and days is not None
        size = {"seed": seed, "instances": instances, "days": days, "start": start.date(), "overwrite": overwrite}
        compress = None if compression == "none" else compression
        if fmt == "snapshots":
            polled = generate_snapshots(
                out, **size, poll_every=poll_every, compression=compress, files_per_day=files_per_day or 3, truth=truth
            )
            paths = [polled.out_dir / SNAPSHOTS_DIR, polled.entitlements]
            summary = _snapshot_summary(polled)
        else:
            result = run_generate(out, **size, fmt=fmt, compression=compress, files_per_day=files_per_day or 1)
            paths = [result.out_dir / "logs", result.entitlements]
            summary = _summary(result)
    for path in paths + ([truth] if truth is not None else []):
        click.echo(path)
    if not quiet:
        click.echo(summary, err=True)
        sys.stderr.flush()


def _summary(result: GenerateResult) -> str:
    kinds = ", ".join(f"{n} {kind}" for kind, n in result.events_by_kind.items())
    planted = Counter(name for names in result.planted.values() for name in names)
    return (
        f"wrote {result.events} events ({kinds}) in {len(result.logs)} files: "
        f"{result.instances} instances over {result.days} days, {result.sessions} sessions"
        + (f"; planted {', '.join(f'{name} in {n}' for name, n in sorted(planted.items()))}" if planted else "")
    )


def _snapshot_summary(result: SnapshotResult) -> str:
    return (
        f"wrote {result.lines} lines in {len(result.files)} files: {result.polls} polls of {result.instances} instances "
        f"over {result.days} days ({result.failed_polls} failed), {result.sessions} true sessions, "
        f"{result.refused_logins} refused logins, {result.restarts} restarts"
    )
