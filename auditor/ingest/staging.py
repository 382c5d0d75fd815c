"""The DuckDB side of one ingest run: batches validated into staging files, then merged.

Each batch of raw lines is parsed, validated and normalised by one SQL statement
(queries/ingest_fields_*.sql, queries/ingest_stage.sql) and written to a
staging Parquet file in the run's scratch folder. Once every file is read, each
UTC date the run touched is merged with that date's current partition in one
statement (queries/ingest_merge_partition.sql), which is where duplicates — in
one file, across files, or across runs — are found. Memory stays bounded by a
batch and by one date partition, never by the input's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from auditor.ingest.reader import BATCH_SCHEMA, PADDED_KEY
from auditor.queries import QueryError, load_query, run_query
from auditor.schema import EVENTS

#: Known when staging, needed when merging: the columns of an event, in schema order.
EVENT_COLUMNS = tuple(EVENTS.names)
#: DuckDB spills to the scratch folder beyond this, so a huge date partition cannot exhaust memory.
MEMORY_LIMIT = "1GB"
_ONE_DAY = timedelta(days=1)


@dataclass
class FileCounts:
    read: int
    rejected: int
    unknown_fields: list[str]


@dataclass
class NewEvents:
    """What merging one date partition added, for one input file and instance."""

    file_no: int
    instance: str
    accepted: int
    first_ts: datetime
    last_ts: datetime


class StagingSession:
    """A DuckDB connection that stages batches into SCRATCH and merges them per date."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.staged: list[str] = []
        #: Batches staged a second time, with each line's JSON checked first.
        self.guarded = 0
        self.con = duckdb.connect()
        # Dates of events are UTC dates whatever the machine's zone.
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws its own progress bar on stdout for long statements; stdout is for data.
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute("SET memory_limit = $limit", {"limit": MEMORY_LIMIT})
        self.con.execute("SET temp_directory = $dir", {"dir": str(scratch / "duckdb.tmp")})
        self.con.register("ingest_batch", BATCH_SCHEMA.empty_table())
        self._format: str | None = None
        self._empty_events = scratch / "no-events.parquet"
        pq.write_table(EVENTS.empty_table(), self._empty_events)

    def close(self) -> None:
        self.con.close()

    # -- staging ------------------------------------------------------------
    def begin_file(self, fmt: str, header: list[str] | None) -> None:
        """Point the field macro at FMT (and, for CSV, at the file's header)."""
        if fmt == "csv":
            run_query(self.con, "ingest_set_csv_header", {"header": header or []})
        if fmt != self._format:
            run_query(self.con, f"ingest_fields_{fmt}")
            self._format = fmt

    def stage(self, batch: pa.Table, file_no: int, *, guard: bool = False) -> None:
        """Validate BATCH (lines of input file FILE_NO) into the next staging file.

        First without checking each line's JSON (the common batch has none broken);
        if a line is malformed that statement fails, and the batch is staged again
        with the check (``guard``), which turns such lines into rejects.
        """
        path = self.scratch / f"staged-{len(self.staged):06d}.parquet"
        trim = (batch.schema.metadata or {}).get(PADDED_KEY) != b"0"
        params: dict[str, Any] = {"file_no": file_no, "path": str(path), "guard": guard, "trim": trim}
        self.con.register("ingest_batch", batch)
        try:
            try:
                run_query(self.con, "ingest_stage", params)
            except QueryError:
                if guard:
                    raise
                self.guarded += 1
                run_query(self.con, "ingest_stage", dict(params, guard=True))
        finally:
            self.con.register("ingest_batch", BATCH_SCHEMA.empty_table())
        self.staged.append(str(path))

    # -- after every file is staged -------------------------------------------
    def file_counts(self) -> dict[int, FileCounts]:
        if not self.staged:
            return {}
        rows = run_query(self.con, "ingest_file_counts", {"staged": self.staged}).fetchall()
        return {int(no): FileCounts(int(read), int(rejected), list(unknown or [])) for no, read, rejected, unknown in rows}

    def staged_days(self) -> dict[str, list[str]]:
        """The UTC dates (YYYY-MM-DD) of the valid staged events, each with the staging files holding some."""
        if not self.staged:
            return {}
        rows = run_query(self.con, "ingest_staged_days", {"staged": self.staged}).fetchall()
        return {day.isoformat(): list(files) for day, files in rows}

    def merger(self) -> DayMerger:
        """A merger on its own DuckDB connection, so that two dates can be merged at once."""
        return DayMerger(self.con.cursor(), self._empty_events)

    def write_rejects(self, path: Path, run_id: str, files: list[str]) -> None:
        run_query(self.con, "ingest_write_rejects", {"staged": self.staged, "run_id": run_id, "files": files, "path": str(path)})



#: The sort of a partition file (pyarrow's null placement "at_end" is DuckDB's ASC NULLS LAST).
PARTITION_ORDER = [("instance", "ascending"), ("ts", "ascending"), ("session_id", "ascending")]
#: How a partition file is written: zstd; dictionaries only for the columns with few distinct values
#: (a dictionary of session ids costs time and saves nothing); ts, ascending within an instance,
#: delta-encoded; row groups of DuckDB's size, so that a filter on instance can skip some.
PARTITION_WRITE_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": ["instance", "event", "seats", "user", "user_type", "device", "app", "auth_flow", "reason"],
    "column_encoding": {"ts": "DELTA_BINARY_PACKED"},
    "row_group_size": 122_880,
}


class DayMerger:
    """Merges one UTC date at a time on its own connection (one per worker thread)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, empty_events: Path) -> None:
        self.con = con
        self.con.execute("SET TimeZone = 'UTC'")
        self._empty_events = empty_events
        self._merged: pa.Table | None = None

    def close(self) -> None:
        self.con.close()

    def merge_day(self, day: str, staged: list[str], existing: Path | None) -> list[NewEvents]:
        """Merge DAY's events from the STAGED files with its current partition file; say what is new."""
        start = datetime.fromisoformat(day + "T00:00:00+00:00")
        params: dict[str, Any] = {
            "existing": [str(existing or self._empty_events)],
            "staged": staged,
            "day_start": start,
            "day_end": start + _ONE_DAY,
        }
        merged = self.con.sql(load_query("ingest_merge_partition"), params=params).to_arrow_table()
        self._merged = merged
        self.con.register("ingest_merged", merged)
        try:
            rows = run_query(self.con, "ingest_new_events").fetchall()
        finally:
            self.con.unregister("ingest_merged")
        return [NewEvents(int(no), inst, int(n), first, last) for no, inst, n, first, last in rows]

    def write_day(self, path: Path) -> None:
        """Write the day merged last as the partition file PATH, sorted by instance, ts, session_id."""
        assert self._merged is not None
        merged, self._merged = self._merged, None
        # pyarrow sorts in about half the CPU time of DuckDB's ORDER BY here (it gathers the rows
        # once), and its Parquet writer, told which columns are worth a dictionary, in 40%.
        ordered = merged.select(list(EVENT_COLUMNS)).take(pc.sort_indices(merged, PARTITION_ORDER)).cast(EVENTS)
        pq.write_table(ordered, path, **PARTITION_WRITE_OPTIONS)
