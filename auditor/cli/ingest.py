"""``auditor ingest``: connection logs into the warehouse."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import click

from auditor.cli.options import input_bounds_options, quiet_option, warehouse_option
from auditor.ingest import IngestResult, ingest_sources
from auditor.ingest.sources import find_sources
from auditor.limits import InputBounds
from auditor.names import printable, warehouse_name_notes
from auditor.output import write_rows
from auditor.warehouse import Warehouse


@click.command()
@warehouse_option
@input_bounds_options
@quiet_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(warehouse: Path, bounds: InputBounds, quiet: bool, paths: tuple[Path, ...]) -> None:
    """Read connection logs and snapshot files at PATHS (files or directories) into the warehouse.

    Files are JSON Lines (*.jsonl, *.ndjson) or CSV with a header (*.csv), each
    optionally gzip (.gz) or zstd (.zst) compressed; directories are read
    recursively. A JSON Lines file whose first line has an entity_set is a
    snapshot file (polls of ERP.net's live sessions, audit-log rows), read into
    the polls, polled_sessions and audit_log tables. Rejected lines go to the warehouse's rejects table, and a
    per-file summary (read, accepted, duplicates, rejected) to stderr and the
    ingest_log table; log files in a directory that cannot be read (a dangling
    symbolic link, a device, no permission) are listed as skipped, with why.
    Events dated before --not-before or after the run's clock plus --max-ahead
    are rejected. Exit status 0 when the run completed, rejects or not.
    """
    # Check the input before creating a warehouse, so that a typo leaves nothing behind.
    bounds.window(datetime.now(timezone.utc))
    sources = find_sources(paths)
    wh = Warehouse.open(warehouse, create=True)
    result = ingest_sources(wh, sources, progress=not quiet and sys.stderr.isatty(), bounds=bounds)
    if not quiet:
        print_summary(result, sys.stderr, warehouse_name_notes(wh, result.new_spans))


def print_summary(result: IngestResult, out: TextIO, name_notes: dict[str, str] | None = None) -> None:
    """The per-file table, then what a reader must know: unknown fields, rejects, ignored files, look-alike names.

    NAME_NOTES: ``auditor.names`` notes on the instance names the run added events to.
    """
    rows: list[tuple[object, ...]] = []
    for f in result.files:
        if f.skipped_known:
            rows.append((str(f.path), None, None, None, None, "already ingested, not read"))
        elif f.skipped is not None:
            rows.append((str(f.path), None, None, None, None, f"skipped: {f.skipped}"))
        else:
            rows.append((str(f.path), f.read, f.accepted, f.duplicates, f.rejected, None))
    if len(result.files) > 1:
        rows.append(("total", result.read, result.accepted, result.duplicates, result.rejected, None))
    columns = ["file", "read", "accepted", "duplicates", "rejected"]
    skipped = [f for f in result.files if f.skipped is not None]
    if skipped or any(f.skipped_known for f in result.files):
        columns.append("note")
    else:
        rows = [row[:5] for row in rows]
    write_rows(columns, rows, "table", out)
    if result.unknown_fields:
        out.write(f"unknown fields, ignored: {', '.join(result.unknown_fields)}\n")
    if result.rejected:
        out.write(
            f"{result.rejected} rejected line(s) kept in the warehouse: "
            f"auditor sql \"SELECT * FROM rejects WHERE run_id = '{result.run_id}'\"\n"
        )
    if skipped:
        out.write(
            f"{len(skipped)} path(s) could not be read and were skipped (see the note column, and ingest_log.skipped)\n"
        )
    if result.ignored:
        shown = ", ".join(str(p) for p in result.ignored[:3]) + (" …" if len(result.ignored) > 3 else "")
        out.write(f"{len(result.ignored)} file(s) not named like logs were not read: {shown}\n")
    if name_notes:
        out.write(
            f"{len(name_notes)} instance name(s) could be mistaken for another; they are marked in the reports:\n"
        )
        for name, note in sorted(name_notes.items()):
            out.write(f"  {printable(name)}: {printable(note)}\n")
    if result.files and result.accepted == 0 and result.read and result.read == result.duplicates:
        out.write("nothing new: every event and poll was already in the warehouse\n")
    polls = sum(f.accepted for f in result.files if f.format == "snapshots")
    if any(f.format == "snapshots" for f in result.files):
        out.write(f"run {result.run_id}: {result.accepted - polls} new event(s), {polls} new snapshot line(s)\n")
    else:
        out.write(f"run {result.run_id}: {result.accepted} new event(s)\n")
