"""``auditor collect``: poll ERP.net instances' Domain API into snapshot files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from auditor.cli.options import Duration, quiet_option
from auditor.collect import DEFAULT_CONCURRENCY, collect as run_collect, load_config
from auditor.errors import UsageError


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The TOML file naming the instances and the trusted application (see the README).")
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Where the snapshot files go: OUT/INSTANCE/YYYY-MM-DD.jsonl.")
@click.option("--once", is_flag=True, help="Poll every instance once and exit (for cron).")
@click.option("--every", type=Duration(), metavar="DURATION",
              help="Keep polling on wall-clock boundaries of this interval (5m: 08:00, 08:05, …) until SIGTERM or "
                   "SIGINT. An instance's own 'every' in the config wins; without --every, [defaults].every.")
@click.option("--concurrency", type=click.IntRange(min=1), default=DEFAULT_CONCURRENCY, show_default=True,
              help="At most this many requests in flight over all instances (one at a time per instance).")
@quiet_option
def collect(config_path: Path, out: Path, once: bool, every: timedelta | None, concurrency: int, quiet: bool) -> None:
    """Poll each instance's Systems_Monitoring_CurrentSessions (and, hourly, its audit log) into snapshot files.

    One JSON line per poll is appended to OUT/INSTANCE/YYYY-MM-DD.jsonl (the UTC day
    of the poll), in the format `auditor ingest` reads. A failed poll is a line with
    `error`, not a failure of the command. Give --once, or run it as a service
    (--every, or the config's interval without either flag). Failures go to stderr,
    one line each; with --once a summary line follows.

    Exit status: 0 done (failed polls included), 1 the collector itself failed
    (e.g. OUT not writable), 2 usage error (a bad config, named with file and line).

    \b
        auditor collect --config collect.toml --out /srv/auditor/snapshots --once
    """
    if once and every is not None:
        raise UsageError("give --once or --every, not both")
    if every is not None and every <= timedelta(0):
        raise UsageError("--every must be longer than zero")
    config = load_config(config_path)
    log = (lambda _: None) if quiet else (lambda line: click.echo(f"collect: {line}", err=True))
    stats = run_collect(config, out, once=once, every=every, concurrency=concurrency, log=log)
    if not quiet:
        written = f"; {len(stats.files)} file(s) written under {out}" if once else ""
        click.echo(f"collect: done: {stats.summary()}{written}", err=True)
