"""The DuckDB side of one ingest run: batches validated into staged Arrow tables, then merged.

Each batch of raw lines is parsed, validated and normalised by one SQL statement
(queries/ingest/fields_*.sql, queries/ingest/stage.sql) into an Arrow table,
kept in memory up to STAGED_MEMORY_BYTES and beyond that written to an Arrow
IPC file in the run's scratch folder (staging Parquet files cost a third of the
statement to write, and more to read back), its events date by date, so that a
date is one slice of each batch whatever the input's order. Once every file is read, each UTC
date the run touched is merged: a new date whose staged events all hash
differently holds no duplicate and is sorted and written by pyarrow; any other
date is merged with its current partition by one statement
(queries/ingest/merge_partition.sql), which is where duplicates — in one file,
across files, or across runs — are found, inside DuckDB, which spills beyond
its memory limit. Memory stays bounded by the in-memory budget, a few batches
and FAST_DATE_ROWS, never by the input's size.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from auditor.ingest.reader import BATCH_SCHEMA, PADDED_KEY
from auditor.limits import MAX_SEATS, EventWindow, InputBounds
from auditor.queries import load_query, run_query
from auditor.tables import EVENTS

#: The statement that cuts a line of each format into its fields (the table macro ingest_fields).
FIELDS_QUERY = {"jsonl": "ingest/fields_jsonl", "csv": "ingest/fields_csv"}
#: Known when staging, needed when merging: the columns of an event, in schema order.
EVENT_COLUMNS = tuple(EVENTS.columns)
#: DuckDB spills to the scratch folder beyond this, so a huge date partition cannot exhaust memory.
MEMORY_LIMIT = "1GB"
#: Staged batches are kept in memory up to this many bytes; later ones go to IPC files.
STAGED_MEMORY_BYTES = 256 << 20
#: A new date is merged in memory, without the merge statement, if its batches hold at most this many rows.
FAST_DATE_ROWS = 1_500_000
_ONE_DAY = timedelta(days=1)


@dataclass
class FileCounts:
    read: int = 0
    rejected: int = 0
    unknown_fields: list[str] = field(default_factory=list)


@dataclass
class NewEvents:
    """What merging one date partition added, for one input file and instance."""

    file_no: int
    instance: str
    accepted: int
    first_ts: datetime
    last_ts: datetime


@dataclass
class StagedBatch:
    """One staged batch: its rows (queries/ingest/stage.sql) in memory, or in an IPC file.

    Its valid events come date by date (``by_day``), rejects last: a date's events are one
    slice of the batch, so merging a date reads only its own rows, whatever the input's order.
    """

    rows: pa.Table | None
    path: Path | None
    rejected: int
    num_rows: int
    #: Per UTC date of its valid events, (offset, length) of their rows.
    runs: dict[date, tuple[int, int]]

    def spill(self, path: Path) -> None:
        """Move the rows to an IPC file at PATH: one record batch per date's run, then the rejects.

        A date is then read back as its own record batch: pyarrow's kernels touch whole buffers
        of the arrays they are given, and on a slice of one mapped batch they paged in much of
        the file for each date, so that a random-order input's merge held every file mapped.
        """
        assert self.rows is not None
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, self.rows.schema) as writer:
            done = 0
            for offset, length in self.runs.values():
                writer.write_batch(_one_batch(self.rows.slice(offset, length)))
                done = offset + length
            if done < self.num_rows:
                writer.write_batch(_one_batch(self.rows.slice(done)))
        self.path, self.rows = path, None

    def table(self) -> pa.Table:
        if self.rows is not None:
            return self.rows
        assert self.path is not None
        # zero-copy: the table's buffers point into the mapped file
        return pa.ipc.open_file(pa.memory_map(str(self.path))).read_all()

    def run(self, day: date) -> tuple[int, int]:
        """(offset, length) of DAY's valid events in the batch ((0, 0): none)."""
        return self.runs.get(day, (0, 0))

    def day_rows(self, day: date) -> pa.Table:
        """The batch's valid events of DAY (no copy: a slice, or the mapped record batch of a spilled batch)."""
        if self.rows is not None or day not in self.runs:
            return self.table().slice(*self.run(day))
        assert self.path is not None
        spilled = pa.ipc.open_file(pa.memory_map(str(self.path)))
        return pa.Table.from_batches([spilled.get_batch(list(self.runs).index(day))])


def _one_batch(rows: pa.Table) -> pa.RecordBatch:
    """ROWS (at least one) as one record batch (a copy only if they span chunks)."""
    return rows.combine_chunks().to_batches()[0]


_EPOCH = date(1970, 1, 1)


def by_day(rows: pa.Table) -> tuple[pa.Table, dict[date, tuple[int, int]]]:
    """ROWS with their valid events date by date (stable within a date) and rejects (no ts) last,
    and per date the (offset, length) of its events. Rows already so ordered are not copied:
    input in time order (one file a day, or one file in time order) costs one pass over ts."""
    ts = rows.column("ts")
    micros = ts.cast(pa.timestamp("us")).cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy()
    day_numbers = np.floor_divide(micros, 86_400_000_000)
    if (np.diff(day_numbers) < 0).any():
        order = np.argsort(day_numbers, kind="stable")
        rows, day_numbers = rows.take(order), day_numbers[order]
    valid = len(day_numbers) - ts.null_count
    starts = np.r_[0, np.flatnonzero(np.diff(day_numbers[:valid])) + 1] if valid else np.empty(0, np.int64)
    stops = np.r_[starts[1:], valid]
    runs = {_EPOCH + timedelta(days=int(day_numbers[a])): (int(a), int(b - a)) for a, b in zip(starts, stops)}
    return rows, runs


def _summary(rows: pa.Table) -> dict[int, tuple[int, int, set[str]]]:
    """Of one staged batch: per input file, lines read (not blank), rejected and the unknown field names seen."""
    per_file: dict[int, tuple[int, int, set[str]]] = {}
    counts = rows.group_by("file_no").aggregate([("line", "count"), ("reject_reason", "count")])
    for r in counts.to_pylist():
        per_file[r["file_no"]] = (r["line_count"], r["reject_reason_count"], set())
    unknown_col = rows.column("unknown")
    if unknown_col.null_count < rows.num_rows:
        named = rows.filter(pc.is_valid(unknown_col)).select(["file_no", "unknown"]).to_pylist()
        for r in named:
            per_file[r["file_no"]][2].update(r["unknown"])
    return per_file


#: The columns of a staged batch that queries/ingest/write_rejects.sql reads, when no log line was rejected.
_NO_REJECTS = pa.schema([("file_no", pa.int32()), ("line", pa.int64()), ("reject_reason", pa.string()),
                         ("raw", pa.string())]).empty_table()

#: A batch as staging reads it: the reader's lines, each with its input file's number.
STAGE_BATCH_SCHEMA = BATCH_SCHEMA.append(pa.field("file_no", pa.int32()))


def with_file_no(batch: pa.Table, file_no: int) -> pa.Table:
    """BATCH (the reader's lines of one file) with the file's number on every line."""
    return batch.append_column(pa.field("file_no", pa.int32()), pa.array(np.full(batch.num_rows, file_no, np.int32)))


@dataclass
class _Stager:
    """A staging thread's connection and what its field macro is set up for."""

    con: duckdb.DuckDBPyConnection
    format: str | None = None
    header: list[str] | None = None


class StagingSession:
    """A DuckDB connection that stages batches and merges them per date (scratch files in SCRATCH)."""

    def __init__(self, scratch: Path, window: EventWindow | None = None) -> None:
        self.scratch = scratch
        #: The instants an accepted event may carry (default: the window of a run starting now).
        self.window = window or InputBounds().window(datetime.now(timezone.utc))
        self.batches: list[StagedBatch] = []
        #: Batches staged a second time, with each line's JSON checked first.
        self.guarded = 0
        self._counts: dict[int, FileCounts] = {}
        self._in_memory = 0
        self._spilled = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self.con = duckdb.connect()
        # Dates of events are UTC dates whatever the machine's zone.
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws its own progress bar on stdout for long statements; stdout is for data.
        self.con.execute("SET enable_progress_bar = false")
        # One thread per statement: ingest runs its statements in parallel itself (batches, then
        # dates), and DuckDB's own threads only add overhead to these small statements.
        self.con.execute("SET threads = 1")
        self.con.execute("SET memory_limit = $limit", {"limit": MEMORY_LIMIT})
        self.con.execute("SET temp_directory = $dir", {"dir": str(scratch / "duckdb.tmp")})
        self._empty_events = scratch / "no-events.parquet"
        pq.write_table(EVENTS.schema.empty_table(), self._empty_events)

    def close(self) -> None:
        for con in self._cursors:
            con.close()
        self.con.close()

    # -- staging ------------------------------------------------------------
    def _stager(self) -> _Stager:
        """This thread's connection for staging (batches are staged two at a time)."""
        stager: _Stager | None = getattr(self._local, "stager", None)
        if stager is None:
            with self._lock:
                con = self.con.cursor()
                self._cursors.append(con)
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            con.register("ingest_batch", STAGE_BATCH_SCHEMA.empty_table())
            run_query(con, "ingest/instant")
            stager = self._local.stager = _Stager(con)
        return stager

    def begin_file(self, fmt: str, header: list[str] | None) -> None:
        """Point this thread's field macro at FMT (and, for CSV, at the file's header)."""
        stager = self._stager()
        if fmt == "csv" and header != stager.header:
            run_query(stager.con, "ingest/set_csv_header", {"header": header or []})
            stager.header = header
        if fmt != stager.format:
            run_query(stager.con, FIELDS_QUERY[fmt])
            stager.format = fmt

    def stage(self, batch: pa.Table, file_no: int | None = None, *, guard: bool = False) -> None:
        """Validate BATCH (lines of input file FILE_NO, or of the files its ``file_no`` column
        names) into a staged batch, on this thread's connection (``begin_file`` first).

        First without checking each line's JSON (the common batch has none broken);
        if a line is malformed that statement fails, and the batch is staged again
        with the check (``guard``), which turns such lines into rejects.
        """
        con = self._stager().con
        trim = (batch.schema.metadata or {}).get(PADDED_KEY) != b"0"
        if "file_no" not in batch.column_names:
            assert file_no is not None
            batch = with_file_no(batch, file_no)
        params: dict[str, Any] = {
            "guard": guard,
            "trim": trim,
            "not_before": self.window.not_before,
            "not_after": self.window.not_after,
            "max_seats": MAX_SEATS,
        }
        con.register("ingest_batch", batch)
        try:
            try:
                rows = con.sql(load_query("ingest/stage"), params=params).to_arrow_table()
            except duckdb.Error:
                if guard:
                    raise
                with self._lock:
                    self.guarded += 1
                rows = con.sql(load_query("ingest/stage"), params=dict(params, guard=True)).to_arrow_table()
        finally:
            con.register("ingest_batch", STAGE_BATCH_SCHEMA.empty_table())
        self._keep(rows)

    def _keep(self, rows: pa.Table) -> None:
        per_file = _summary(rows)
        rejected = sum(r for _, r, _ in per_file.values())
        rows, runs = by_day(rows)
        staged = StagedBatch(rows, None, rejected, rows.num_rows, runs)
        with self._lock:
            for file_no, (read, rejected_here, unknown) in per_file.items():
                counts = self._counts.setdefault(file_no, FileCounts())
                counts.read += read
                counts.rejected += rejected_here
                counts.unknown_fields = sorted(set(counts.unknown_fields) | unknown)
            if not rows.num_rows:
                return
            spill_to = None
            if self._in_memory + rows.nbytes > STAGED_MEMORY_BYTES:
                spill_to = self.scratch / f"staged-{self._spilled:06d}.arrow"
                self._spilled += 1
            else:
                self._in_memory += rows.nbytes
            self.batches.append(staged)
        if spill_to is not None:
            staged.spill(spill_to)

    # -- after every file is staged -------------------------------------------
    def file_counts(self) -> dict[int, FileCounts]:
        """Per input file number: lines read (not blank), rejected, unknown field names."""
        return dict(self._counts)

    def staged_days(self) -> dict[str, list[int]]:
        """The UTC dates (YYYY-MM-DD) of the valid staged events, each with the staged batches holding some."""
        days: dict[date, list[int]] = {}
        for no, staged in enumerate(self.batches):
            for day in staged.runs:
                days.setdefault(day, []).append(no)
        return {day.isoformat(): nos for day, nos in sorted(days.items())}

    def day_rows(self, nos: list[int], day: date) -> pa.Table:
        """The valid staged events of DAY, from batches NOS."""
        return pa.concat_tables([self.batches[no].day_rows(day) for no in nos])

    def day_size(self, nos: list[int], day: date) -> int:
        """How many valid staged events of DAY batches NOS hold."""
        return sum(self.batches[no].run(day)[1] for no in nos)

    def staged_reader(self, nos: list[int], day: date | None = None) -> pa.RecordBatchReader:
        """The staged rows of batches NOS (only DAY's valid events, when given), streamed: a spilled
        batch is read piece by piece (no mapped file held whole), each piece freed once DuckDB has taken it."""
        first = self.batches[nos[0]]
        schema = first.rows.schema if first.rows is not None else pa.ipc.open_file(str(first.path)).schema

        def pieces() -> Iterator[pa.RecordBatch]:
            for no in nos:
                staged = self.batches[no]
                offset, length = (0, staged.num_rows) if day is None else staged.run(day)
                if staged.rows is not None:
                    yield from staged.rows.slice(offset, length).to_batches()
                    continue
                with pa.OSFile(str(staged.path)) as source:
                    spilled = pa.ipc.open_file(source)
                    done = 0
                    for i in range(spilled.num_record_batches):
                        piece = spilled.get_batch(i)
                        lo, hi = max(offset - done, 0), min(offset + length - done, piece.num_rows)
                        done += piece.num_rows
                        if lo < hi:
                            yield piece.slice(lo, hi - lo)

        return pa.RecordBatchReader.from_batches(schema, pieces())

    def staged_tables(self, nos: list[int] | None = None) -> pa.Table:
        """The staged rows of batches NOS (default: all), as one table."""
        chosen = self.batches if nos is None else [self.batches[no] for no in nos]
        return pa.concat_tables([staged.table() for staged in chosen])

    def merger(self) -> DayMerger:
        """A merger on its own DuckDB connection, so that two dates can be merged at once."""
        return DayMerger(self.con.cursor(), self._empty_events, self)

    def write_rejects(self, path: Path, run_id: str, files: list[str], more: pa.Table) -> None:
        """Write the run's rejects to PATH: the staged log lines' and MORE (file_no, line, reason, raw)."""
        nos = [no for no, staged in enumerate(self.batches) if staged.rejected]
        if nos:
            self.con.register("ingest_staged", self.staged_reader(nos))
        else:
            self.con.register("ingest_staged", _NO_REJECTS)
        self.con.register("ingest_more_rejects", more)
        try:
            run_query(self.con, "ingest/write_rejects", {"run_id": run_id, "files": files, "path": str(path)})
        finally:
            self.con.unregister("ingest_staged")
            self.con.unregister("ingest_more_rejects")


#: Beyond this share of rows tied on (instance, ts), partition_order takes the general sort.
MAX_TIED_SHARE = 0.01
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


def partition_order(rows: pa.Table) -> pa.Array | np.ndarray:
    """The order of ROWS (one UTC date's events) by instance, ts, session_id, NULL last.

    One int64 key per row, the instance's rank in 23 bits above the microsecond of the
    day, sorted by numpy in half the time of a three-column sort; the few rows that tie
    on it are then ordered by session_id. Many ties, or an odd date, take the general sort.
    """
    instances = pc.dictionary_encode(rows.column("instance").combine_chunks())
    ts = rows.column("ts").combine_chunks().cast(pa.int64()).to_numpy()
    if not len(ts) or len(instances.dictionary) >= 1 << 23 or int(ts.max()) - int(ts.min()) >= 1 << 40:
        return pc.sort_indices(rows, PARTITION_ORDER)
    rank = np.empty(len(instances.dictionary), np.int64)
    rank[pc.sort_indices(instances.dictionary).to_numpy()] = np.arange(len(instances.dictionary))
    key = (rank[instances.indices.to_numpy()] << 40) + (ts - ts.min())
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(tied) > len(ts) * MAX_TIED_SHARE:
        return pc.sort_indices(rows, PARTITION_ORDER)
    if len(tied):
        sessions = rows.column("session_id")
        starts = tied[np.r_[True, tied[1:] != tied[:-1] + 1]]  # first row of each run of equal keys
        for start in starts:
            end = start + 1
            while end < len(ordered) and ordered[end] == ordered[start]:
                end += 1
            run = order[start:end]
            names = [sessions[int(i)].as_py() for i in run]
            order[start:end] = [i for _, i in sorted(zip(names, run), key=lambda p: (p[0] is None, p[0] or ""))]
    return order


class DayMerger:
    """Merges one UTC date at a time on its own connection (one per worker thread)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, empty_events: Path, session: StagingSession) -> None:
        self.con = con
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")
        self._empty_events = empty_events
        self._session = session
        self._merged: pa.Table | None = None
        #: Dates merged without the merge statement (no partition yet, no duplicate).
        self.fast = 0

    def close(self) -> None:
        self.con.close()

    def merge_day(self, day: str, staged: list[int], existing: Path | None) -> list[NewEvents]:
        """Merge DAY's events from the STAGED batches with its current partition file; say what is new.

        A date with no partition yet whose staged events all hash differently holds no
        duplicate: its events are all new as they are, and the merge statement is skipped
        (if the date has at most FAST_DATE_ROWS staged events: that path holds the date in memory).
        Else the statement merges it inside DuckDB, which spills beyond its memory limit.
        """
        start = datetime.fromisoformat(day + "T00:00:00+00:00")
        end = start + _ONE_DAY
        self._merged = None
        if existing is None and self._session.day_size(staged, start.date()) <= FAST_DATE_ROWS:
            rows = self._session.day_rows(staged, start.date())
            if pc.count_distinct(rows.column("h")).as_py() == rows.num_rows:
                self.fast += 1
                self._merged = rows
                # every event is new: what queries/ingest/new_events.sql gives, grouped here by pyarrow
                news = rows.group_by(["file_no", "instance"]).aggregate([("ts", "count"), ("ts", "min"), ("ts", "max")])
                return [
                    NewEvents(r["file_no"], r["instance"], r["ts_count"], r["ts_min"], r["ts_max"]) for r in news.to_pylist()
                ]
        params: dict[str, Any] = {"existing": [str(existing or self._empty_events)], "day_start": start, "day_end": end}
        self.con.register("ingest_staged", self._session.staged_reader(staged, start.date()))
        try:
            run_query(self.con, "ingest/merge_partition", params)
        finally:
            self.con.unregister("ingest_staged")
        rows = run_query(self.con, "ingest/new_events").fetchall()
        return [NewEvents(int(no), inst, int(n), first, last) for no, inst, n, first, last in rows]

    def write_day(self, path: Path) -> None:
        """Write the day merged last as the partition file PATH, sorted by instance, ts, session_id."""
        if self._merged is None:  # merged by the statement, in DuckDB: sorted and written there
            run_query(self.con, "ingest/write_partition", {"path": str(path)})
            return
        merged, self._merged = self._merged, None
        # pyarrow sorts with one int64 key and gathers the rows once, and its Parquet writer is told
        # which columns are worth a dictionary: cheaper than DuckDB's ORDER BY and COPY here.
        ordered = merged.select(list(EVENT_COLUMNS)).take(partition_order(merged)).cast(EVENTS.schema)
        pq.write_table(ordered, path, **PARTITION_WRITE_OPTIONS)
