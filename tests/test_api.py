"""auditor.open: a warehouse pinned at one commit, read with polars and DuckDB from Python."""

from __future__ import annotations

import doctest
import fcntl
import gc
import multiprocessing
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

import auditor
from auditor.api import UnknownTableError, WarehouseClosedError, WarehouseReader
from auditor.audit import run_audit
from auditor.errors import NotAWarehouseError, UsageError, WarehouseError
from auditor.ingest import ingest
from auditor.tables import TABLES
from auditor.warehouse import READERS_FILE, Warehouse
from tests.ingest_support import event, write_events

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = PROJECT_ROOT / "sample_data"


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``demo-output/warehouse`` as ``auditor demo`` leaves it, for the tables the tests read.

    The demo audits night by night; its tables equal those of one ingest and one
    audit of the same files (the incremental audit's property tests), which is
    much quicker to build. Only run records (run ids, nightly_runs) differ.
    """
    root = tmp_path_factory.mktemp("api") / "demo-output" / "warehouse"
    wh = Warehouse.open(root, create=True)
    ingest(wh, [SAMPLE_DATA / "logs"])
    run_audit(wh, entitlements=SAMPLE_DATA / "entitlements.csv", plans=SAMPLE_DATA / "plans.toml")
    return root


def _day_log(path: Path, day: int, n: int = 10, first_minute: int = 0) -> Path:
    return write_events(
        path,
        [event(ts=f"2026-10-{day:02d}T08:{m:02d}:00Z", session_id=f"s{day}-{m}") for m in range(first_minute, first_minute + n)],
    )


def _readers_lock_is_free(root: Path) -> bool:
    """Whether a writer could take ``.readers`` exclusively now (no reader holds it)."""
    fd = os.open(root / READERS_FILE, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


# -- opening ----------------------------------------------------------------------------------------


def test_open_pins_the_last_commit_and_lists_the_tables(demo_warehouse: Path) -> None:
    with auditor.open(demo_warehouse) as wh:
        assert isinstance(wh, WarehouseReader)
        assert wh.path == demo_warehouse.absolute()
        assert wh.generation == Warehouse.open(demo_warehouse).manifest().generation > 0
        assert list(wh.tables()) == list(TABLES)
        assert wh.tables()["sessions"] == "every session segment"
        assert all(wh.tables().values())
        assert repr(wh) == f"<auditor warehouse {demo_warehouse} (commit {wh.generation})>"
    assert wh.closed and repr(wh).endswith("(closed)>")


def test_open_without_a_path_uses_the_environment_then_dot_warehouse(
    demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITOR_WAREHOUSE", str(demo_warehouse))
    with auditor.open() as wh:
        assert wh.path == demo_warehouse
    monkeypatch.delenv("AUDITOR_WAREHOUSE")
    monkeypatch.chdir(demo_warehouse.parent)  # it holds ./warehouse
    with auditor.open() as wh:
        assert wh.path == demo_warehouse


def test_a_missing_or_damaged_warehouse_is_an_auditor_error(demo_warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(NotAWarehouseError, match=r"there is no warehouse at .*nowhere; run `auditor ingest"):
        auditor.open(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NotAWarehouseError, match="is a file, not a warehouse directory"):
        auditor.open(tmp_path / "notes.txt")
    with pytest.raises(NotAWarehouseError, match="is not an auditor warehouse"):
        auditor.open(tmp_path)
    damaged = tmp_path / "damaged"
    wh = Warehouse.open(damaged, create=True)
    ingest(wh, [_day_log(tmp_path / "day1.jsonl", 1)])
    wh.files("events")[0].unlink()
    with pytest.raises(WarehouseError, match="references 1 missing file"):
        auditor.open(damaged)
    # The failed open let go of the readers' lock.
    assert _readers_lock_is_free(damaged)


def test_import_auditor_loads_no_engine(tmp_path: Path) -> None:
    # A notebook's `import auditor` pays for nothing until it opens a warehouse; polars waits for table().
    code = (
        "import sys, auditor; heavy = {'duckdb', 'polars', 'pyarrow', 'PIL', 'numpy'} & set(sys.modules);"
        "wh = auditor.open(sys.argv[1]); wh.sql('select 1').fetchall(); late = 'polars' in sys.modules;"
        "wh.table('events'); sys.exit(bool(heavy) or late or 'polars' not in sys.modules)"
    )
    Warehouse.open(tmp_path / "wh", create=True)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path / "wh")], check=False, env=env, timeout=60).returncode == 0


# -- reading ----------------------------------------------------------------------------------------


def test_every_table_is_a_lazyframe_with_its_declared_types(demo_warehouse: Path) -> None:
    with auditor.open(demo_warehouse) as wh:
        for name, declared in TABLES.items():
            frame = wh.table(name)
            assert isinstance(frame, pl.LazyFrame)
            assert frame.collect_schema() == pl.from_arrow(declared.schema.empty_table()).schema, name
            rows = frame.select(pl.len()).collect().item()
            assert rows == wh.sql(f'SELECT count(*) FROM "{name}"').fetchall()[0][0], name
        # No nightly run wrote this warehouse: an empty table, typed all the same.
        runs = wh.table("nightly_runs").collect()
        assert runs.height == 0
        assert runs.schema["started_at"] == pl.Datetime("us", "UTC")
        assert runs.schema["instances_touched"] == pl.List(pl.String)
        assert wh.table("events").select(pl.len()).collect().item() == 63028


def test_lazyframes_filter_and_read_utc_instants(demo_warehouse: Path) -> None:
    with auditor.open(demo_warehouse) as wh:
        acme = (
            wh.table("sessions")
            .filter(pl.col("instance") == "acme.my.erp.net", pl.col("end_reason") == "restart")
            .select("session_id", "end_ts")
            .collect()
        )
        # The worked example: the restart of 2026-10-14 at 14:30 in Sofia (11:30 UTC) ended four sessions.
        assert acme.height == 4
        assert set(acme["end_ts"].dt.strftime("%Y-%m-%d %H:%M %Z")) == {"2026-10-14 11:30 UTC"}
        days = (
            wh.table("daily_usage")
            .filter(pl.col("instance") == "acme.my.erp.net", pl.col("day") >= date(2026, 10, 19))
            .select(pl.col("peak_seats").max(), pl.col("seat_limit").min())
            .collect()
        )
        assert days.row(0) == (7, 7)


def test_sql_takes_named_parameters_and_gives_relations(demo_warehouse: Path) -> None:
    with auditor.open(demo_warehouse) as wh:
        query = "SELECT breach_start, duration_s FROM breaches WHERE instance = $instance AND duration_s > $min_s ORDER BY 1"
        relation = wh.sql(query, instance="northwind.my.erp.net", min_s=3600)
        assert isinstance(relation, duckdb.DuckDBPyRelation)
        frame = relation.pl()
        assert frame.schema["breach_start"] == pl.Datetime("us", "UTC")
        expected = (
            wh.table("breaches")
            .filter(pl.col("instance") == "northwind.my.erp.net", pl.col("duration_s") > 3600)
            .select("breach_start", "duration_s")
            .sort("breach_start")
            .collect()
        )
        assert frame.height == 41 and frame.equals(expected)
        assert relation.fetchall() == expected.rows()
        # A relation can be queried further, and parameters are values, never SQL.
        assert wh.sql("SELECT $who AS who", who="o'brien; DROP VIEW events").fetchall() == [("o'brien; DROP VIEW events",)]
        assert wh.sql("SELECT count(*) FROM events").fetchall() == [(63028,)]
        with pytest.raises(duckdb.Error):
            wh.sql("SELEC 1")


def test_unknown_tables_and_closed_readers_are_auditor_errors(demo_warehouse: Path) -> None:
    wh = auditor.open(demo_warehouse)
    with pytest.raises(UnknownTableError, match=r"no table 'session'.* the tables are: events, ") as raised:
        wh.table("session")
    assert isinstance(raised.value, UsageError) and isinstance(raised.value, KeyError)
    wh.close()
    wh.close()  # twice is harmless
    for read in (lambda: wh.table("events"), lambda: wh.sql("SELECT 1"), wh.refresh):
        with pytest.raises(WarehouseClosedError, match="is closed; open it again with auditor.open"):
            read()


# -- a commit that stays ----------------------------------------------------------------------------


def test_a_reader_keeps_its_commit_while_a_run_commits_and_refresh_moves_on(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    writer = Warehouse.open(root, create=True)
    ingest(writer, [_day_log(tmp_path / "a.jsonl", 1)])
    wh = auditor.open(root)
    events = wh.table("events")
    count = wh.sql("SELECT count(*) FROM events")
    (old_file,) = wh.snapshot.files("events")
    # A run adds events to the same day: its partition is replaced by a new file.
    ingest(writer, [_day_log(tmp_path / "b.jsonl", 1, first_minute=30)])
    assert writer.files("events") != [old_file]
    assert old_file.exists()
    assert events.select(pl.len()).collect().item() == 10
    assert count.fetchall() == [(10,)]
    assert wh.table("events").select(pl.len()).collect().item() == 10
    generation = wh.generation
    assert wh.refresh() is wh and wh.generation == generation + 1
    assert wh.table("events").select(pl.len()).collect().item() == 20
    assert count.fetchall() == [(20,)]  # a relation runs on the reader's commit when it is fetched
    assert events.select(pl.len()).collect().item() == 10  # a LazyFrame keeps the commit it was made on
    wh.close()
    # The next run finds no reader and deletes the replaced file.
    ingest(writer, [_day_log(tmp_path / "c.jsonl", 2)])
    assert not old_file.exists()


def test_a_with_block_and_a_forgotten_reader_both_let_go(demo_warehouse: Path) -> None:
    with auditor.open(demo_warehouse) as wh:
        assert not _readers_lock_is_free(demo_warehouse)
        wh.sql("SELECT 1").fetchall()
    assert _readers_lock_is_free(demo_warehouse)
    forgotten = auditor.open(demo_warehouse)
    forgotten.sql("SELECT 1").fetchall()
    assert not _readers_lock_is_free(demo_warehouse)
    del forgotten
    gc.collect()
    assert _readers_lock_is_free(demo_warehouse)


def _read_across_a_commit(path: str, opened, committed, results) -> None:  # pragma: no cover - runs in a child
    import polars as pl

    import auditor

    wh = auditor.open(path)
    events = wh.table("events")
    opened.set()
    if not committed.wait(60):
        return
    results.put((
        wh.generation,
        events.select(pl.len()).collect().item(),
        wh.sql("SELECT count(*) FROM events").fetchall()[0][0],
        sorted(str(f) for f in wh.snapshot.files("events")),
    ))
    committed.clear()
    committed.wait(60)  # killed here, never closed: the kernel lets go of the lock


def test_a_reader_in_another_process_reads_its_commit_across_a_nightly_commit(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    writer = Warehouse.open(root, create=True)
    ingest(writer, [_day_log(tmp_path / "a.jsonl", 1)])
    before = writer.manifest()
    ctx = multiprocessing.get_context("spawn")
    opened, committed, results = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=_read_across_a_commit, args=(str(root), opened, committed, results))
    child.start()
    try:
        assert opened.wait(60)
        ingest(writer, [_day_log(tmp_path / "b.jsonl", 1, first_minute=30)])  # replaces the day's file
        assert writer.manifest().generation == before.generation + 1
        committed.set()
        generation, frame_rows, sql_rows, files = results.get(timeout=60)
        assert (generation, frame_rows, sql_rows) == (before.generation, 10, 10)
        assert files == [str(f) for f in writer.files("events", before)]
        # Another run while the reader is still there keeps its files too.
        ingest(writer, [_day_log(tmp_path / "c.jsonl", 2)])
        assert all(Path(f).exists() for f in files)
    finally:
        child.kill()
        child.join()
    ingest(writer, [_day_log(tmp_path / "d.jsonl", 3)])
    assert not any(Path(f).exists() for f in files)
    with auditor.open(root) as wh:
        assert wh.table("events").select(pl.len()).collect().item() == 40


# -- the README -------------------------------------------------------------------------------------


def test_the_readme_python_examples_run_as_written(demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From Python and notebooks\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```pycon\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 2 and any("wh.table(" in b for b in blocks) and any("wh.sql(" in b for b in blocks)
    monkeypatch.chdir(demo_warehouse.parent.parent)  # where `auditor demo` leaves demo-output/
    monkeypatch.delenv("AUDITOR_WAREHOUSE", raising=False)
    # One session, as a reader would type them one after the other.
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md", str(PROJECT_ROOT / "README.md"), 0)
    assert len(test.examples) >= 8
    failures: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    outcome = runner.run(test, out=failures.append, clear_globs=False)
    assert outcome.failed == 0, "".join(failures)
    # The examples close what they open.
    assert test.globs["wh"].closed
