"""``auditor generate``: deterministic sample connection logs and entitlements."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from click.core import ParameterSource

from auditor.cli.options import quiet_option
from auditor.errors import UsageError
from auditor.generate import DEFAULT_START, GenerateResult, generate as run_generate, prepare_out_dir
from auditor.generate.sample import build_sample

# The options that shape a random data set, which --sample does not take.
_SIZE_OPTIONS = {
    "seed": "--seed",
    "instances": "--instances",
    "days": "--days",
    "start": "--start",
    "fmt": "--format",
    "compression": "--compression",
    "files_per_day": "--files-per-day",
}


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
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True, help="Log file format.")
@click.option(
    "--compression", type=click.Choice(["none", "gz", "zst"]), default="none", show_default=True, help="Compress each log file."
)
@click.option("--files-per-day", type=click.IntRange(min=1), default=1, show_default=True, help="Split each day's events over N files (by instance).")
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
    files_per_day: int,
    overwrite: bool,
    sample: bool,
    quiet: bool,
    out: Path,
) -> None:
    """Write generated connection logs to OUT/logs and entitlements to OUT/entitlements.csv.

    One log file per UTC day (OUT/logs/YYYY-MM-DD.jsonl), so that a nightly
    batch can take them day by day. Prints the two paths on stdout. Example:

        auditor generate --seed 1 --instances 100 --days 30 data/

    `auditor generate --sample --overwrite sample_data` rewrites the shipped
    sample data.
    """
    ctx = click.get_current_context()
    if sample:
        given = [flag for name, flag in _SIZE_OPTIONS.items() if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if given:
            raise UsageError(f"--sample writes a fixed data set; drop {', '.join(given)}")
        prepare_out_dir(out, overwrite=overwrite)
        result = build_sample(out)
    else:
        missing = [f"--{name}" for name, value in (("seed", seed), ("instances", instances), ("days", days)) if value is None]
        if missing:
            raise UsageError(f"missing {', '.join(missing)}: say how much to generate (or pass --sample)")
        assert seed is not None and instances is not None and days is not None
        result = run_generate(
            out,
            seed=seed,
            instances=instances,
            days=days,
            start=start.date(),
            fmt=fmt,
            compression=None if compression == "none" else compression,
            files_per_day=files_per_day,
            overwrite=overwrite,
        )
    click.echo(result.out_dir / "logs")
    click.echo(result.entitlements)
    if not quiet:
        _summary(result)


def _summary(result: GenerateResult) -> None:
    kinds = ", ".join(f"{n} {kind}" for kind, n in result.events_by_kind.items())
    click.echo(
        f"wrote {result.events} events ({kinds}) in {len(result.logs)} files: "
        f"{result.instances} instances over {result.days} days, {result.sessions} sessions",
        err=True,
    )
    sys.stderr.flush()
