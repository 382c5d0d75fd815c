"""The warehouse: manifest commits are atomic, views follow them, garbage is collected."""

from __future__ import annotations

import multiprocessing
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditor.errors import NotAWarehouseError, WarehouseBusyError
from auditor.tables import EVENTS, REJECTS
from auditor.warehouse import Snapshot, Warehouse, new_connection


def _rejects(n: int, run: str = "r1") -> pa.Table:
    return pa.table(
        {"run_id": [run] * n, "file": ["f.jsonl"] * n, "line": list(range(1, n + 1)), "reason": ["bad"] * n, "raw": ["x"] * n},
        schema=REJECTS.schema,
    )


def test_open_refuses_missing_and_foreign_directories(tmp_path: Path) -> None:
    with pytest.raises(NotAWarehouseError, match="no warehouse"):
        Warehouse.open(tmp_path / "nope")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x.txt").write_text("hello")
    with pytest.raises(NotAWarehouseError, match="not an auditor warehouse"):
        Warehouse.open(tmp_path / "foreign", create=True)
    (tmp_path / "afile").write_text("")
    with pytest.raises(NotAWarehouseError, match="is a file"):
        Warehouse.open(tmp_path / "afile", create=True)


def test_commit_makes_files_visible_and_removes_replaced_ones(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    with wh.transaction() as tx:
        first = tx.write("rejects", "run=r1", _rejects(3))
    assert wh.connect().execute("select count(*) from rejects").fetchone() == (3,)
    with wh.transaction() as tx:
        tx.write("rejects", "run=r1", _rejects(5))
    assert not first.exists()
    assert wh.connect().execute("select count(*) from rejects").fetchone() == (5,)
    # The engineers' database file sees the same, from any working directory.
    con = duckdb.connect(str(wh.duckdb_path), read_only=True)
    assert con.execute("select count(*) from rejects").fetchone() == (5,)


def test_failed_transaction_leaves_the_warehouse_as_it_was(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    with wh.transaction() as tx:
        tx.write("rejects", "run=r1", _rejects(2))
    before = wh.manifest()
    with pytest.raises(RuntimeError):
        with wh.transaction() as tx:
            tx.write("rejects", "run=r1", _rejects(7))
            tx.write("rejects", "run=r2", _rejects(1, "r2"))
            raise RuntimeError("killed")
    assert wh.manifest() == before
    assert wh.connect().execute("select count(*) from rejects").fetchone() == (2,)
    files = sorted(p for p in (warehouse_dir / "rejects").rglob("*.parquet"))
    assert len(files) == 1


def test_orphans_of_a_killed_writer_are_collected(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    orphan = warehouse_dir / "rejects" / "run=zz" / "g999999-dead.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half a file")
    with wh.transaction() as tx:
        tx.write("rejects", "run=r1", _rejects(1))
    assert not orphan.exists()
    assert wh.connect().execute("select count(*) from rejects").fetchone() == (1,)


def _hold_lock(path: str, ready, release) -> None:  # pragma: no cover - runs in a child
    wh = Warehouse(Path(path))
    with wh.lock():
        ready.set()
        release.wait(10)


def test_a_second_writer_is_refused_and_a_dead_holder_is_taken_over(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(warehouse_dir), ready, release))
    child.start()
    try:
        assert ready.wait(30)
        with pytest.raises(WarehouseBusyError, match=r"in use by auditor pid \d+"):
            with wh.lock():
                pass
    finally:
        child.kill()
        child.join()
    # The holder died without releasing anything: the lock is free again.
    with wh.lock():
        pass


def test_connections_draw_no_progress_bar_on_stdout(warehouse_dir: Path) -> None:
    # DuckDB's progress bar goes to stdout even when it is not a terminal, mixing into data.
    con = Warehouse.open(warehouse_dir, create=True).connect()
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)


def _rel(wh: Warehouse, path: Path) -> str:
    return path.relative_to(wh.root).as_posix()


def test_a_reader_keeps_the_files_a_commit_replaced_until_it_lets_go(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    with wh.transaction() as tx:
        first = tx.write("rejects", "run=r1", _rejects(3))
    hold = wh.hold_readers_lock()
    try:
        pinned = wh.snapshot()
        # Left by a run killed before its commit: no manifest ever named it, so no reader can be reading it.
        orphan = warehouse_dir / "rejects" / "run=zz" / "g999999-dead.parquet"
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"half a file")
        with wh.transaction() as tx:
            second = tx.write("rejects", "run=r1", _rejects(5))
        assert first.exists() and not orphan.exists()
        assert wh.manifest().retired == (_rel(wh, first),)
        con = duckdb.connect()
        pinned.register(con, "rejects", "old")
        assert con.execute("select count(*) from old").fetchone() == (3,)
        # Another commit while the reader is still there: both replaced files are kept and listed.
        with wh.transaction() as tx:
            tx.write("rejects", "run=r1", _rejects(7))
        assert first.exists() and second.exists()
        assert set(wh.manifest().retired) == {_rel(wh, first), _rel(wh, second)}
    finally:
        hold.release()
    with wh.transaction() as tx:
        tx.write("rejects", "run=r2", _rejects(1, "r2"))
    assert not first.exists() and not second.exists()
    # Deleted files leave the list: it holds what the last commit replaced, no history.
    assert wh.manifest().retired == ()
    assert wh.connect().execute("select count(*) from rejects").fetchone() == (8,)


def test_reading_holds_the_lock_for_the_block(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    with wh.transaction() as tx:
        first = tx.write("rejects", "run=r1", _rejects(3))
    with wh.reading() as snapshot:
        with wh.transaction() as tx:
            tx.write("rejects", "run=r1", _rejects(5))
        assert snapshot.files("rejects") == [first] and first.exists()
    with wh.lock():
        wh.collect_garbage()
    assert not first.exists()


def test_a_commit_leaves_only_the_files_its_manifest_names(warehouse_dir: Path) -> None:
    """After the commit the run's own superseded file is gone at once, with the partition folders emptied."""
    wh = Warehouse.open(warehouse_dir, create=True)
    with wh.transaction() as tx:
        tx.write("rejects", "run=r1", _rejects(3))
        tx.write("rejects", "run=r2", _rejects(1, "r2"))
    with wh.transaction() as tx:
        superseded = tx.write("rejects", "run=r1", _rejects(4))  # written twice in one run: the last one counts
        last = tx.write("rejects", "run=r1", _rejects(5))
        tx.remove("rejects", "run=r2")
    on_disk = {_rel(wh, p) for p in (warehouse_dir / "rejects").rglob("*.parquet")}
    assert on_disk == wh.manifest().referenced() == {_rel(wh, last)}
    assert not superseded.exists() and not (warehouse_dir / "rejects" / "run=r2").exists()



def _events(rows: list[tuple[str, str]]) -> pa.Table:
    """One login per (instance, 'YYYY-MM-DD'), at noon UTC, in the events table's schema."""
    n = len(rows)
    columns = {f.name: pa.nulls(n, f.type) for f in EVENTS.schema}
    noon = [datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=timezone.utc) for _, day in rows]
    columns.update(ts=pa.array(noon, EVENTS.schema.field("ts").type), instance=pa.array([i for i, _ in rows]),
                   event=pa.array(["login"] * n), seats=pa.array([1] * n, pa.int32()), auth_flow=pa.array(["password"] * n))
    return pa.table(columns).cast(EVENTS.schema)


@pytest.mark.parametrize("old_schema", [False, True], ids=["same schema", "older schema"])
def test_reaching_back_reads_only_the_far_instances_old_rows(tmp_path: Path, old_schema: bool) -> None:
    # A service that never pauses ('far') restarts far back; 'near' does not. An older ingest
    # may have written the old partition without a column (here auth_flow): its rows read with
    # NULL there, all of the old files read whole (the filter cannot bind), as before reaching.
    wh = Warehouse.open(tmp_path / "wh", create=True)
    with wh.transaction() as tx:
        old = _events([("far", "2026-10-01"), ("near", "2026-10-01")])
        if old_schema:
            path = tx.new_file("events", "date=2026-10-01")
            pq.write_table(old.drop_columns(["auth_flow"]), path)
            tx.put("events", "date=2026-10-01", path)
        else:
            tx.write("events", "date=2026-10-01", old)
        tx.write("events", "date=2026-10-20", _events([("far", "2026-10-20"), ("near", "2026-10-20")]))
    con = new_connection()
    Snapshot(wh.root, wh.manifest()).register_reaching(
        con, "events", "h_events", since=date(2026, 10, 19), back={"far": date(2026, 10, 1), "near": date(2026, 10, 19)}
    )
    got = con.execute("SELECT instance, CAST(ts AS DATE), auth_flow FROM h_events ORDER BY ALL").fetchall()
    recent = [("far", date(2026, 10, 20), "password"), ("near", date(2026, 10, 20), "password")]
    if old_schema:
        assert got == [("far", date(2026, 10, 1), None), *recent[:1], ("near", date(2026, 10, 1), None), *recent[1:]]
    else:
        assert got == [("far", date(2026, 10, 1), "password"), *recent]
    # every declared column (in the older files' order when they are read whole: the audit reads them by name)
    assert sorted(d[0] for d in con.execute("SELECT * FROM h_events").description) == sorted(EVENTS.columns)
