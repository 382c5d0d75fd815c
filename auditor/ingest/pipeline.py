"""``ingest``: connection-log files into the warehouse, validated and without duplicates.

The run in one transaction: read each file in batches (a reader thread cuts
lines while DuckDB validates earlier batches, two at a time), stage them, merge
each UTC date the run touched with its partition (two dates at a time), then
write the rejects, the ingest log and the audit now due (``pending_audit``); the warehouse
commits all of it at once or none.
"""

from __future__ import annotations

import csv
import queue
import shutil
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditor.ingest.progress import ReadProgress
from auditor.ingest import reader as line_reader
from auditor.ingest.decode import StoredBytes
from auditor.ingest.reader import PADDED_KEY, LineReader
from auditor.ingest.results import FileResult, IngestResult
from auditor.ingest.sources import SkippedPath, SourceFile, Sources, Unreadable, find_sources, format_of, open_regular
from auditor.ingest.snapshots import GROUP_BYTES as SNAPSHOT_GROUP_BYTES
from auditor.ingest.snapshots import SnapshotStaging
from auditor.ingest.staging import EVENT_COLUMNS, DayMerger, NewEvents, StagingSession, with_file_no
from auditor.files import new_run_id
from auditor.limits import InputBounds
from auditor.machine import workers
from auditor.queries import run_query
from auditor.state import Span
from auditor.tables import EVENTS, INGEST_LOG, REJECTS
from auditor.warehouse import Transaction, Warehouse, new_connection

#: Batches staged at once, and date partitions merged at once: one per core (each on its own
#: single-threaded DuckDB connection), bounded so that staged batches in flight stay few.
STAGE_WORKERS = MERGE_WORKERS = workers(cap=4)
#: Small files are staged together up to this many bytes: a staging statement takes a while to
#: plan, which a batch of many small files then pays once.
GROUP_BYTES = 48 << 20
#: ... and up to this many batches: a batch of one line weighs far more than its bytes.
GROUP_BATCHES = 1000
#: A file this large (as stored) is read in a thread of its own while DuckDB stages what came
#: before; a smaller one is read in place (starting a thread costs more than it saves there).
PREFETCH_BYTES = 4 << 20



def ingest(
    warehouse: Warehouse,
    paths: Sequence[Path | str],
    *,
    skip_known_files: bool = False,
    progress: bool = False,
    bounds: InputBounds = InputBounds(),
) -> IngestResult:
    """Ingest the log and snapshot files at PATHS (files or directories) into WAREHOUSE.

    With ``skip_known_files``, a file whose content (sha256) an earlier run
    already read is not read again, whatever its name. BOUNDS say what is too
    long a line, and which instants are too old or in the future (rejected).
    """
    return ingest_sources(
        warehouse, find_sources(paths), skip_known_files=skip_known_files, progress=progress, bounds=bounds
    )


def ingest_sources(
    warehouse: Warehouse,
    sources: Sources,
    *,
    skip_known_files: bool = False,
    progress: bool = False,
    bounds: InputBounds = InputBounds(),
) -> IngestResult:
    """``ingest`` of the files ``find_sources`` found (SOURCES); its skipped paths are logged as such."""
    started = datetime.now(timezone.utc)
    window = bounds.window(started)
    run_id = new_run_id(started)
    with warehouse.transaction() as tx:
        scratch = warehouse.scratch_dir()
        session = StagingSession(scratch, window)
        snapshots = SnapshotStaging(scratch, window)
        try:
            known = known_file_hashes(warehouse) if skip_known_files else set()
            total = sum(s.size for s in sources.files)
            with ReadProgress(progress, total) as bar:
                files = _stage_files(session, snapshots, sources.files, known, skip_known_files, bar, bounds.max_line_bytes)
                bar.phase("merging")
                new_spans = _merge(session, tx, files)
                new_spans = _merge_snapshots(snapshots, tx, files, new_spans)
                for result in files:
                    result.duplicates = result.read - result.rejected - result.accepted
                _write_rejects(session, snapshots, tx, run_id, files)
            finished = datetime.now(timezone.utc)
            files += [_skipped(s) for s in sources.skipped]
            _write_log(tx, run_id, started, finished, files)
            _record_pending_audit(tx, new_spans)
        finally:
            session.close()
            snapshots.close()
            shutil.rmtree(scratch, ignore_errors=True)
    return IngestResult(run_id, started, finished, files, new_spans, sources.ignored)


def known_file_hashes(warehouse: Warehouse) -> set[str]:
    """The SHA-256 of every file some committed ingest run read (from ingest_log).

    Reads ingest_log alone: a connection with every table's view would read the footer of
    every file of the warehouse first, twice a night.
    """
    con = new_connection()
    try:
        with warehouse.reading() as snapshot:
            snapshot.register(con, "ingest_log", "ingest_log")
            return {sha for (sha,) in run_query(con, "ingest/known_files").fetchall()}
    finally:
        con.close()


def _sha256_of(path: Path) -> str:
    stored = StoredBytes(open_regular(path))
    try:
        stored.drain()
    finally:
        stored.close()
    return stored.sha256.hexdigest()


def _skipped(skipped: SkippedPath) -> FileResult:
    """The result of a path found in a named directory that could not be read."""
    named = format_of(skipped.path)
    return FileResult(skipped.path, None, named[0] if named else None, None, None, skipped=skipped.reason)


def _stage_files(
    session: StagingSession,
    snapshots: SnapshotStaging,
    sources: list[SourceFile],
    known: set[str],
    skip_known: bool,
    bar: ReadProgress,
    max_line_bytes: int,
) -> list[FileResult]:
    """Read every file; stage its batches two at a time, each on its own DuckDB connection.

    Batches of small files of one format (and, for CSV, one header) are staged
    together up to GROUP_BYTES: a staging statement takes milliseconds to plan,
    which thirty small files a day would pay thirty times. Snapshot files' batches
    are grouped likewise and staged by their own threads, two groups at a time.
    """
    results: list[FileResult] = []
    slots = threading.BoundedSemaphore(STAGE_WORKERS)  # batches staged or waiting: memory stays flat
    pending: list[Future[None]] = []
    group: list[pa.Table] = []
    group_kind: tuple[str, tuple[str, ...]] | None = None
    group_bytes = 0
    snapshot_group: list[pa.Table] = []
    snapshot_slots = threading.BoundedSemaphore(STAGE_WORKERS)  # groups staged or waiting: memory stays flat
    group_limit = min(GROUP_BYTES, line_reader.CHUNK_BYTES)

    def stage_snapshots(batch: pa.Table) -> None:
        try:
            snapshots.stage(batch)
        finally:
            snapshot_slots.release()

    def flush_snapshots() -> None:
        if not snapshot_group:
            return
        batch = _concat_batches(snapshot_group)
        snapshot_group.clear()
        snapshot_slots.acquire()
        pending.append(snapshot_pool.submit(stage_snapshots, batch))
        _raise_failed(pending)

    def stage(batch: pa.Table, fmt: str, header: list[str]) -> None:
        try:
            session.begin_file(fmt, header)
            session.stage(batch)
        finally:
            slots.release()

    def flush() -> None:
        nonlocal group_bytes
        if not group:
            return
        assert group_kind is not None
        batch = _concat_batches(group)
        group.clear()
        group_bytes = 0
        slots.acquire()
        pending.append(pool.submit(stage, batch, group_kind[0], list(group_kind[1])))
        _raise_failed(pending)

    with ThreadPoolExecutor(max_workers=STAGE_WORKERS, thread_name_prefix="ingest-stage") as pool, \
            ThreadPoolExecutor(max_workers=STAGE_WORKERS, thread_name_prefix="ingest-snapshots") as snapshot_pool:
        try:
            for source in sources:
                bar.file(source.path.name)
                file_no = len(results)
                try:
                    if skip_known:
                        sha = _sha256_of(source.path)
                        if sha in known:
                            bar.advance(source.size)
                            results.append(FileResult(source.path, sha, source.format, source.compression, source.size, skipped_known=True))
                            continue
                    reader = LineReader(source, on_bytes=bar.advance, max_line_bytes=max_line_bytes)
                    batches = reader.batches()
                    for batch in _prefetch(batches) if source.size >= PREFETCH_BYTES else batches:
                        if source.format == "snapshots":
                            if sum(b.nbytes for b in snapshot_group) + batch.nbytes > SNAPSHOT_GROUP_BYTES:
                                flush_snapshots()
                            snapshot_group.append(with_file_no(batch, file_no))
                            continue
                        kind = (source.format, tuple(_header_names(reader.header)))
                        full = group_bytes + batch.nbytes > group_limit or len(group) >= GROUP_BATCHES
                        if group and (kind != group_kind or full):
                            flush()
                        group.append(with_file_no(batch, file_no))
                        group_bytes += batch.nbytes
                        group_kind = kind
                        if group_bytes >= group_limit:  # staged now, not when the next batch comes
                            flush()
                except Unreadable as exc:  # gone or replaced since it was found: nothing of it was read
                    results.append(FileResult(source.path, None, source.format, None, None, skipped=str(exc)))
                    continue
                assert reader.sha256 is not None
                known.add(reader.sha256)  # a copy later in the same run is known too
                result = FileResult(source.path, reader.sha256, source.format, source.compression, source.size)
                if source.format == "csv":
                    result.unknown_fields = sorted({n for n in _header_names(reader.header) if n not in EVENT_COLUMNS})
                results.append(result)
            flush()
            flush_snapshots()
        finally:
            wait(pending)
    for future in pending:
        future.result()
    for no, counts in session.file_counts().items():
        result = results[no]
        result.read, result.rejected = counts.read, counts.rejected
        result.unknown_fields = sorted(set(result.unknown_fields) | set(counts.unknown_fields))
    for no, snapshot_counts in snapshots.counts().items():
        results[no].read, results[no].rejected = snapshot_counts.read, snapshot_counts.rejected
    return results


def _concat_batches(batches: list[pa.Table]) -> pa.Table:
    """One batch of BATCHES' lines; padded (see reader.padded) if any of them is."""
    padded = any((b.schema.metadata or {}).get(PADDED_KEY) != b"0" for b in batches)
    table = pa.concat_tables([b.replace_schema_metadata(None) for b in batches])
    return table.replace_schema_metadata({PADDED_KEY: b"1" if padded else b"0"})


def _raise_failed(pending: list[Future[None]]) -> None:
    """Raise a staging error as soon as it happened; forget batches staged."""
    done = [f for f in pending if f.done()]
    for future in done:
        future.result()
        pending.remove(future)


def _header_names(header: str | None) -> list[str]:
    if not header or not header.strip():
        return []
    return [name.strip() for name in next(csv.reader([header]))]


def _merge(session: StagingSession, tx: Transaction, files: list[FileResult]) -> dict[str, tuple[datetime, datetime]]:
    """Merge every touched date partition; count accepted events; return the new spans.

    Dates are merged two at a time, each on its own DuckDB connection: a date's
    statements are too small for DuckDB to spread over both cores by itself.
    """
    spans: dict[str, tuple[datetime, datetime]] = {}
    current = tx.partitions("events")
    days = list(session.staged_days().items())
    lock = threading.Lock()
    local = threading.local()
    mergers: list[DayMerger] = []

    def merge(day: str, staged: list[int]) -> list[NewEvents]:
        merger = getattr(local, "merger", None)
        if merger is None:
            with lock:
                merger = local.merger = session.merger()
                mergers.append(merger)
        key = EVENTS.partitioning.key(day)
        new = merger.merge_day(day, staged, current.get(key))
        if new:  # else only duplicates: the partition stays as it is
            with lock:
                path = tx.new_file("events", key)
            merger.write_day(path)
            with lock:
                tx.put("events", key, path)
        return new

    try:
        with ThreadPoolExecutor(max_workers=MERGE_WORKERS, thread_name_prefix="ingest-merge") as pool:
            for new in pool.map(lambda item: merge(*item), days):
                for piece in new:
                    files[piece.file_no].accepted += piece.accepted
                    first, last = spans.get(piece.instance, (piece.first_ts, piece.last_ts))
                    spans[piece.instance] = (min(first, piece.first_ts), max(last, piece.last_ts))
    finally:
        for merger in mergers:
            merger.close()
    return spans


def _merge_snapshots(
    snapshots: SnapshotStaging, tx: Transaction, files: list[FileResult], spans: dict[str, tuple[datetime, datetime]]
) -> dict[str, tuple[datetime, datetime]]:
    """Write the new polls and audit-log entries; count accepted lines; return SPANS widened by them."""
    accepted, snapshot_spans = snapshots.merge(tx)
    for no, n in accepted.items():
        files[no].accepted += n
    spans = dict(spans)
    for instance, (first, last) in snapshot_spans.items():
        old = spans.get(instance)
        spans[instance] = (first, last) if old is None else (min(old[0], first), max(old[1], last))
    return spans


def _write_rejects(
    session: StagingSession, snapshots: SnapshotStaging, tx: Transaction, run_id: str, files: list[FileResult]
) -> None:
    if not any(f.rejected for f in files):
        return
    key = REJECTS.partitioning.key(run_id)
    path = tx.new_file("rejects", key)
    session.write_rejects(path, run_id, [str(f.path) for f in files], snapshots.rejects())
    tx.put("rejects", key, path)


def _write_log(tx: Transaction, run_id: str, started: datetime, finished: datetime, files: list[FileResult]) -> None:
    rows = [f for f in files if not f.skipped_known]  # a file skipped as unreadable is logged, with why
    if not rows:
        return
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * len(rows),
        "started_at": [started] * len(rows),
        "finished_at": [finished] * len(rows),
        "file": [str(f.path) for f in rows],
        "file_sha256": [f.sha256 for f in rows],
        "file_bytes": [f.bytes for f in rows],
        "format": [f.format for f in rows],
        "compression": [f.compression for f in rows],
        "read": [f.read for f in rows],
        "accepted": [f.accepted for f in rows],
        "duplicates": [f.duplicates for f in rows],
        "rejected": [f.rejected for f in rows],
        "unknown_fields": [f.unknown_fields or None for f in rows],
        "skipped": [f.skipped for f in rows],
    }
    tx.write("ingest_log", INGEST_LOG.partitioning.key(run_id), pa.table(columns, schema=INGEST_LOG.schema))


def _record_pending_audit(tx: Transaction, spans: dict[str, tuple[datetime, datetime]]) -> None:
    """Widen the audit that is due by the new spans, in the commit that adds the events."""
    tx.state.add_pending({instance: Span(first, last) for instance, (first, last) in spans.items()})


_DONE = object()


def _prefetch(batches: Iterator[pa.Table], depth: int = 2) -> Iterator[pa.Table]:
    """Run BATCHES in a thread, DEPTH ahead: the next file chunk is cut while DuckDB works."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    worker = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
