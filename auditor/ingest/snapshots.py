"""Snapshot files: polls of ERP.net's live-sessions view and audit-log rows, into the warehouse.

A snapshot line is one poll of one instance (issue 11's format, what ``auditor collect``
writes). The reader's batches of raw lines are parsed by pyarrow's JSON reader against one
explicit schema: it is strict (a number where text belongs, a ``rows`` that is not a list,
a row that is not an object, a key given twice all fail it), so a batch it takes is
well-formed, and one it refuses is cut in halves until the lines it refuses stand alone
and are rejected, each with a reason named in Python (``structure_problem``); the other
lines are parsed by the same reader, so a line's rows never depend on its neighbours.
The values are then judged by SQL (queries/ingest/snapshot_*.sql) in one pass per batch:
a line with any bad value is rejected whole. Once every file is read, polls and
audit-log entries are de-duplicated against this run and the warehouse, and each UTC
date touched is rewritten with the new rows.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from auditor.audit.outputs import write_partitions
from auditor.ingest.staging import MEMORY_LIMIT
from auditor.limits import EventWindow
from auditor.queries import QueryError, load_query, run_query
from auditor.tables import AUDIT_LOG, POLLED_SESSIONS, POLLS, Table
from auditor.warehouse import Transaction

#: The live-sessions view, under its name since 24.1.5.35 and before.
SESSION_SETS = ("Systems_Monitoring_CurrentSessions", "Systems_Dmv_CurrentSessions")
#: The audit log, under its name since 24.1.5.35 and before.
AUDIT_SETS = ("Systems_Monitoring_AuditLogEntries", "Systems_Core_AuditLogEntries")

#: The attributes of a row that auditor reads, with their JSON types: a session of the view, or an
#: audit-log entry (a line's rows are one or the other; other attributes are ignored).
ROW_FIELDS: dict[str, pa.DataType] = {
    "SessionId": pa.string(),
    "UserLogin": pa.string(),
    "User": pa.string(),
    "StartTime": pa.string(),
    "LastRequestTime": pa.string(),
    "AbsoluteExpirationTime": pa.string(),
    "Applications": pa.string(),
    "Device": pa.string(),
    "CurrentRequestsCount": pa.int64(),
    "TotalRequestsCount": pa.int64(),
    "DownloadMB": pa.float64(),
    "UploadMB": pa.float64(),
    "Id": pa.string(),
    "EventTimeUtc": pa.string(),
    "EventClass": pa.string(),
    "EventType": pa.string(),
    "ApplicationName": pa.string(),
    "Details": pa.string(),
}
COLLECTOR_FIELDS = ("user", "application")
#: One snapshot line as the JSON reader is told to read it (JSON null and a missing key alike give NULL).
LINE_SCHEMA = pa.schema(
    [
        ("instance", pa.string()),
        ("entity_set", pa.string()),
        ("polled_at", pa.string()),
        ("error", pa.string()),
        ("collector", pa.struct([(name, pa.string()) for name in COLLECTOR_FIELDS])),
        ("rows", pa.list_(pa.struct(list(ROW_FIELDS.items())))),
    ]
)
_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=LINE_SCHEMA, unexpected_field_behavior="ignore")
#: The JSON reader parses blocks of this many bytes (a block is raised to hold the longest line).
PARSE_BLOCK_BYTES = 1 << 20
#: Lines' bytes staged by one statement: small files are staged together up to this.
GROUP_BYTES = 16 << 20
_REJECT_SCHEMA = pa.schema([("file_no", pa.int32()), ("line", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])


def structure_problem(text: str) -> str:
    """Why the JSON reader refuses the line TEXT: the first thing in it that breaks LINE_SCHEMA."""
    try:
        value = json.loads(text)
    except ValueError:
        return "malformed JSON"
    if not isinstance(value, dict):
        return "not a JSON object"
    for name in ("instance", "entity_set", "polled_at", "error"):
        if value.get(name) is not None and not isinstance(value[name], str):
            return f"{name} is not a string"
    collector = value.get("collector")
    if collector is not None:
        if not isinstance(collector, dict):
            return "collector is not an object"
        for name in COLLECTOR_FIELDS:
            if collector.get(name) is not None and not isinstance(collector[name], str):
                return f"collector.{name} is not a string"
    rows = value.get("rows")
    if rows is not None and not isinstance(rows, list):
        return "rows is not a list"
    for i, row in enumerate(rows or (), 1):
        if row is None:
            continue  # the SQL names it, like every other bad value
        if not isinstance(row, dict):
            return f"bad row {i}: not an object"
        for name, dtype in ROW_FIELDS.items():
            problem = _value_problem(row.get(name), dtype)
            if problem:
                return f"bad row {i}: {name} {problem}"
    # json.loads takes what the reader does not: a key given twice, NaN, a lone surrogate
    return "malformed JSON"


def _value_problem(value: Any, dtype: pa.DataType) -> str | None:
    if value is None:
        return None
    if pa.types.is_string(dtype):
        return None if isinstance(value, str) else "is not a string"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "is not a number"
    if pa.types.is_integer(dtype):
        return None if isinstance(value, int) and -(1 << 63) <= value < (1 << 63) else "is not a whole number"
    return None if math.isfinite(value) else "is not a number"


@dataclass
class _Lines:
    """Non-blank lines of a batch as one contiguous buffer: line i is data[offsets[i]:offsets[i+1]]."""

    data: pa.Buffer
    offsets: np.ndarray

    def read(self, lo: int, hi: int) -> pa.Table | None:
        """Lines LO..HI-1 parsed, or None if the reader refuses them (or sees other than one row per line)."""
        start, end = int(self.offsets[lo]), int(self.offsets[hi])
        longest = int(np.diff(self.offsets[lo : hi + 1]).max())
        # one thread: batches are already staged two at a time, and the reader's own threads cost CPU
        options = pj.ReadOptions(block_size=max(PARSE_BLOCK_BYTES, longest + 1), use_threads=False)
        try:
            table = pj.read_json(pa.BufferReader(self.data.slice(start, end - start)), read_options=options,
                                 parse_options=_PARSE_OPTIONS)
        except pa.ArrowInvalid:
            return None
        return table if table.num_rows == hi - lo else None

    def text(self, i: int) -> str:
        return self.data.slice(int(self.offsets[i]), int(self.offsets[i + 1] - self.offsets[i])).to_pybytes().decode()


def parse_lines(lines: _Lines, n: int) -> tuple[pa.Table, np.ndarray, list[tuple[int, str]]]:
    """The N LINES parsed: (table of those the reader takes, their indices, (index, reason) of the others).

    The whole batch is tried first; a refused range is cut in halves, so k bad lines
    cost about k * log2(n) reads of ever smaller ranges.
    """
    tables: list[pa.Table] = []
    kept: list[np.ndarray] = []
    bad: list[tuple[int, str]] = []
    ranges = [(0, n)] if n else []
    while ranges:
        lo, hi = ranges.pop()
        table = lines.read(lo, hi)
        if table is not None:
            tables.append(table)
            kept.append(np.arange(lo, hi))
        elif hi - lo == 1:
            bad.append((lo, structure_problem(lines.text(lo))))
        else:
            mid = (lo + hi) // 2
            ranges += [(mid, hi), (lo, mid)]  # popped low half first: tables stay in line order
    if not tables:
        return LINE_SCHEMA.empty_table(), np.empty(0, np.int64), bad
    return pa.concat_tables(tables), np.concatenate(kept), sorted(bad)


def batch_rows(parsed: pa.Table) -> pa.Table:
    """The elements of PARSED's ``rows``, one table row each: file_no, line, entity_set (of its line),
    i (its place in ``rows``, from 1) and r (the element, NULL for a JSON null).

    Arrow flattens the lists without copying the elements; DuckDB's unnest of the same lists
    copied every attribute and was most of the judging statement's time.
    """
    flats: list[pa.Array] = []
    parents: list[np.ndarray] = []
    done = 0
    for chunk in parsed.column("rows").chunks:  # chunk by chunk: combining them would copy every element
        flats.append(pc.list_flatten(chunk))
        parents.append(pc.list_parent_indices(chunk).to_numpy() + done)
        done += len(chunk)
    at = np.concatenate(parents) if parents else np.empty(0, np.int64)
    n = len(at)
    # an element's place: its index minus the index of its line's first element (elements are in line order)
    first = np.zeros(n, np.int64)
    if n:
        starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
        first[starts] = starts
        np.maximum.accumulate(first, out=first)
    take = pa.array(at)
    return pa.table({
        "file_no": parsed.column("file_no").take(take),
        "line": parsed.column("line").take(take),
        "entity_set": parsed.column("entity_set").take(take),
        "i": pa.array(np.arange(n, dtype=np.int64) - first + 1),
        "r": pa.chunked_array(flats, LINE_SCHEMA.field("rows").type.value_type),
    })


def _contiguous(column: pa.ChunkedArray) -> pa.Array:
    """COLUMN as one array: combined only when it has several chunks (combining one still copies it)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _blank(raw: pa.Array) -> pa.Array:
    """Which lines hold only white space (only those that start with it are trimmed)."""
    first = pc.utf8_slice_codeunits(raw, 0, 1)
    maybe = pc.is_in(first, pa.array([" ", "\t", "\r", "\n"]))
    if not pc.any(maybe).as_py():
        return maybe
    return pc.and_(maybe, pc.equal(pc.utf8_trim_whitespace(raw), ""))


@dataclass
class SnapshotCounts:
    read: int = 0
    rejected: int = 0


class SnapshotStaging:
    """Stages snapshot batches (several at once, each thread on its own connection to one in-memory
    DuckDB database), then merges them on another connection into the run's transaction."""

    def __init__(self, scratch: Path, window: EventWindow) -> None:
        self.scratch = scratch
        self.window = window
        self._db: duckdb.DuckDBPyConnection | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lines: list[pa.Table] = []
        #: Whether the table snapshot_staged_sessions exists in the database: the staged sessions, most
        #: of the data, stay in DuckDB from the judging statement to the partition writer (no copy out
        #: to Arrow and back), and DuckDB spills them to the scratch folder beyond its memory limit.
        self._sessions = False
        self._entries: list[pa.Table] = []
        self._rejects: list[pa.Table] = []
        self._counts: dict[int, SnapshotCounts] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._stagers: list[duckdb.DuckDBPyConnection] = []

    def _connect(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                self._db = duckdb.connect()
            con = self._db.cursor()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET memory_limit = $limit", {"limit": MEMORY_LIMIT})
        con.execute("SET temp_directory = $dir", {"dir": str(self.scratch / "snapshots.tmp")})
        run_query(con, "ingest/instant")
        return con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The merge's connection (opened when needed: a run of logs alone never pays for it)."""
        if self._con is None:
            self._con = self._connect()
        return self._con

    def _stager(self) -> duckdb.DuckDBPyConnection:
        """This thread's staging connection: batches are staged two at a time, each with its own temp tables."""
        con: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            with self._lock:
                self._stagers.append(con)
        return con

    def close(self) -> None:
        for con in self._stagers:
            con.close()
        if self._con is not None:
            self._con.close()
        if self._db is not None:
            self._db.close()

    def counts(self) -> dict[int, SnapshotCounts]:
        """Per input file number: lines read (not blank) and rejected."""
        return dict(self._counts)

    def stage(self, batch: pa.Table) -> None:
        """Parse and judge BATCH: the reader's lines (line, raw, problem) with their file_no."""
        if any(column.num_chunks != 1 for column in batch.columns):
            batch = batch.combine_chunks()
        blank = _blank(batch.column("raw").chunk(0))
        unreadable = pc.is_valid(batch.column("problem").chunk(0))
        readable = pc.invert(pc.or_(blank, unreadable))
        self._count(batch.column("file_no"), pc.invert(blank))
        if pc.any(unreadable).as_py():
            gone = batch.filter(unreadable)
            self._keep_rejects(pa.table({"file_no": gone["file_no"], "line": gone["line"], "reason": gone["problem"],
                                           "raw": pc.utf8_rtrim(gone["raw"], "\r\n")}, schema=_REJECT_SCHEMA))
        good = batch if pc.all(readable).as_py() else batch.filter(readable)
        if not good.num_rows:
            return
        text = _contiguous(good.column("raw"))
        offsets = np.frombuffer(text.buffers()[1], np.int32)[text.offset : text.offset + len(text) + 1]
        parsed, kept, bad = parse_lines(_Lines(text.buffers()[2], offsets), len(text))
        if bad:
            at = pa.array([i for i, _ in bad], pa.int64())
            self._keep_rejects(pa.table({"file_no": good["file_no"].take(at), "line": good["line"].take(at),
                                           "reason": [r for _, r in bad],
                                           "raw": pc.utf8_rtrim(text.take(at), "\r\n")}, schema=_REJECT_SCHEMA))
            good = good.take(pa.array(kept))
        for name in ("file_no", "line", "raw"):
            parsed = parsed.append_column(name, good[name])
        self._judge(parsed)

    def _judge(self, parsed: pa.Table) -> None:
        con = self._stager()
        params = {"audit_sets": list(AUDIT_SETS), "not_before": self.window.not_before, "not_after": self.window.not_after}
        con.register("snapshot_batch", parsed)
        con.register("snapshot_batch_rows", batch_rows(parsed))
        try:
            run_query(con, "ingest/snapshot_typed")  # a table macro binds its tables when it is defined
            run_query(con, "ingest/snapshot_rows", params)
            run_query(con, "ingest/snapshot_lines", dict(params, session_sets=list(SESSION_SETS)))
            lines = con.table("snapshot_lines").to_arrow_table()
            self._keep_sessions(con, params)
            entries = _arrow(con, "ingest/snapshot_entries", params)
        finally:
            con.unregister("snapshot_batch")
            con.unregister("snapshot_batch_rows")
        rejected = lines.filter(pc.is_valid(lines["reject_reason"]))
        if rejected.num_rows:
            self._keep_rejects(pa.table({"file_no": rejected["file_no"], "line": rejected["line"],
                                           "reason": rejected["reject_reason"], "raw": rejected["raw"]}, schema=_REJECT_SCHEMA))
            lines = lines.filter(pc.is_null(lines["reject_reason"]))
        with self._lock:
            self._lines.append(lines.drop_columns(["reject_reason", "raw"]))
            if entries.num_rows:
                self._entries.append(entries)

    def _keep_sessions(self, con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
        """Append the batch's sessions (``queries/ingest/snapshot_sessions.sql``) to snapshot_staged_sessions."""
        query = load_query("ingest/snapshot_sessions")
        try:
            with self._lock:  # the first batch creates the table; two creating it at once would conflict
                if not self._sessions:
                    con.execute(f"CREATE TABLE snapshot_staged_sessions AS SELECT * FROM ({query}) LIMIT 0", params)
                    self._sessions = True
            con.execute(f"INSERT INTO snapshot_staged_sessions {query}", params)
        except duckdb.Error as exc:
            raise QueryError(f"queries/ingest/snapshot_sessions.sql failed: {exc}") from exc

    def _keep_rejects(self, rejects: pa.Table) -> None:
        with self._lock:
            self._rejects.append(rejects)
            for pair in pc.value_counts(rejects["file_no"]).to_pylist():
                self._counts.setdefault(pair["values"], SnapshotCounts()).rejected += pair["counts"]

    def _count(self, file_no: pa.ChunkedArray, nonblank: pa.Array) -> None:
        """Count the lines read (not blank) per file; rejects are counted as they are kept."""
        read = pa.table({"f": file_no, "n": nonblank}).group_by("f").aggregate([("n", "sum")]).to_pylist()
        with self._lock:
            for row in read:
                self._counts.setdefault(row["f"], SnapshotCounts()).read += row["n_sum"] or 0

    # -- once every file is staged ------------------------------------------------
    def rejects(self) -> pa.Table:
        """Every rejected snapshot line: file_no, line, reason, raw."""
        return pa.concat_tables(self._rejects) if self._rejects else _REJECT_SCHEMA.empty_table()

    def merge(self, tx: Transaction) -> tuple[dict[int, int], dict[str, tuple[datetime, datetime]]]:
        """Write the new polls, their sessions and the new audit-log entries into TX.

        Returns the lines accepted per input file number (the others that were not rejected
        are duplicates), and per instance the first and last instant the accepted lines speak of.
        """
        if not self._lines:
            return {}, {}
        lines = pa.concat_tables(self._lines)
        registered = ["snapshot_staged"]
        self.con.register("snapshot_staged", lines)
        try:
            staged_polls = lines.filter(pc.invert(lines["audit"]))
            polls = self._new_rows(tx, POLLS, "ingest/snapshot_new_polls", staged_polls, "polled_at")
            _write_by_date(self.con, tx, self.scratch, POLLS, polls)
            if self._sessions and polls.num_rows:
                # the new polls' sessions, from the staged table into the sorted partitions; when every
                # staged poll is new, they are all the staged sessions, taken without the join
                query = "ingest/snapshot_all_sessions" if polls.num_rows == staged_polls.num_rows else "ingest/snapshot_new_sessions"
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW a_out_{POLLED_SESSIONS.name} AS {load_query(query)}")
                _write_by_date(self.con, tx, self.scratch, POLLED_SESSIONS, None, polls["polled_at"])
            audit_lines = lines.filter(lines["audit"]).select(["file_no", "line"])
            entries = AUDIT_LOG.schema.empty_table()
            if self._entries:
                staged_entries = pa.concat_tables(self._entries)
                registered.append("snapshot_staged_entries")
                self.con.register("snapshot_staged_entries", staged_entries)
                entries = self._new_rows(tx, AUDIT_LOG, "ingest/snapshot_new_entries", staged_entries, "event_time")
                audit_lines = _arrow(self.con, "ingest/snapshot_audit_lines")
        finally:
            for name in registered:
                self.con.unregister(name)
        _write_by_date(self.con, tx, self.scratch, AUDIT_LOG, entries)
        accepted = pa.concat_tables([polls.select(["file_no", "line"]), audit_lines.select(["file_no", "line"])])
        news = lines.join(accepted, ["file_no", "line"], join_type="inner")
        per_file = {r["file_no"]: r["line_count"] for r in news.group_by("file_no").aggregate([("line", "count")]).to_pylist()}
        spans = {r["instance"]: (r["first_min"], r["last_max"])
                 for r in news.group_by("instance").aggregate([("first", "min"), ("last", "max")]).to_pylist()}
        return per_file, spans

    def _new_rows(self, tx: Transaction, table: Table, query: str, candidates: pa.Table, column: str) -> pa.Table:
        """Run QUERY (creating a temp table of the same name) against TABLE's partitions of the dates CANDIDATES touch."""
        current = tx.partitions(table.name)
        files = [str(current[key]) for key in _date_keys(table, candidates[column]) if key in current]
        if not files:
            empty = self.scratch / f"no-{table.name}.parquet"
            if not empty.exists():
                pq.write_table(table.schema.empty_table(), empty)
            files = [str(empty)]
        run_query(self.con, query, {"existing": files})
        return self.con.table(query.split("/")[1]).to_arrow_table()


def _arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pa.Table:
    """The rows of ``queries/NAME.sql`` as Arrow, without the copy a DB-API result makes."""
    try:
        return con.sql(load_query(name), params=params).to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"queries/{name}.sql failed: {exc}") from exc


def _date_keys(table: Table, instants: pa.ChunkedArray) -> list[str]:
    micros = pc.drop_null(instants).cast(pa.int64()).to_numpy()
    days = np.unique(np.floor_divide(micros, 86_400_000_000))
    return [table.partitioning.key(str(np.datetime64(int(d), "D"))) for d in days]


def _write_by_date(con: duckdb.DuckDBPyConnection, tx: Transaction, scratch: Path, table: Table,
                   new: pa.Table | None, instants: pa.ChunkedArray | None = None) -> None:
    """Add NEW rows (extra columns ignored) to TABLE's UTC-date partitions, each rewritten sorted.

    NEW None: the rows are the view ``a_out_TABLE`` already defined, on the dates of INSTANTS.
    The audit's partition writer, derived from the table's declaration: DuckDB sorts and
    writes every date touched in one statement (and spills beyond its memory limit).
    """
    if new is not None:
        if not new.num_rows:
            return
        instants = new[table.partitioning.column or ""]
        con.register(f"a_out_{table.name}", new.select(table.columns))
    assert instants is not None
    current = tx.partitions(table.name)
    kept = [current[key] for key in _date_keys(table, instants) if key in current]
    try:
        write_partitions(con, tx, scratch, table, kept)
    finally:
        if new is not None:
            con.unregister(f"a_out_{table.name}")
