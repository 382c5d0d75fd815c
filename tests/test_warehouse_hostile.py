"""The warehouse under hostile conditions: read-only, a full disk, a stale auditor.duckdb, two creators at once."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from auditor.exitcodes import ExitCode
from auditor.ingest import ingest
from auditor.tables import TABLES
from auditor.warehouse import Manifest, Transaction, Warehouse
from tests.ingest_support import event, write_events

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _small_log(path: Path, day: int = 1, n: int = 10) -> Path:
    return write_events(path, [event(ts=f"2026-10-{day:02d}T08:{m:02d}:00Z", session_id=f"s{day}-{m}") for m in range(n)])


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in TABLES}


def _duckdb_file_counts(wh: Warehouse) -> dict[str, int]:
    """What an engineer's DuckDB sees in auditor.duckdb."""
    con = duckdb.connect(str(wh.duckdb_path), read_only=True)
    try:
        return _counts(con)
    finally:
        con.close()


def _manifest_counts(wh: Warehouse) -> dict[str, int]:
    """What the manifest's files hold."""
    con = wh.connect()
    try:
        return _counts(con)
    finally:
        con.close()


# -- 8: a warehouse this user may not write to ------------------------------------------------

# Runs as the unprivileged user: each command through the CLI, the outcomes as JSON on stdout.
AS_READER = textwrap.dedent(
    """
    import json, sys
    from click.testing import CliRunner
    from auditor.cli import cli

    outcomes = []
    for args in json.loads(sys.argv[1]):
        result = CliRunner().invoke(cli, args)
        outcomes.append({"args": args, "exit": result.exit_code, "stdout": result.stdout, "stderr": result.stderr})
    print(json.dumps(outcomes))
    """
)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory under /tmp that an unprivileged user can reach (pytest's own tmp_path is private)."""
    path = Path(tempfile.mkdtemp(prefix="auditor-ro-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(path)


def _run_as_reader(commands: list[list[str]], home: Path) -> list[dict]:
    """COMMANDS run by a user who may read the warehouse but not write to it (nobody, when we are root)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HOME": str(home), "MPLCONFIGDIR": str(home / "mpl"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("AUDITOR_WAREHOUSE", None)
    argv = [sys.executable, "-c", AS_READER, json.dumps(commands)]
    if os.geteuid() == 0:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_read_only_warehouse_refuses_writers_in_one_line_and_serves_readers(shared_dir: Path) -> None:
    from auditor.audit import run_audit

    wh = Warehouse.open(shared_dir / "wh", create=True)
    ingest(wh, [_small_log(shared_dir / "day1.jsonl")])
    run_audit(wh)
    # Moved: auditor.duckdb is stale, and the reader cannot rewrite it; that must not matter.
    os.rename(shared_dir / "wh", shared_dir / "moved")
    root = str(shared_dir / "moved")
    before = (shared_dir / "moved" / "manifest.json").read_bytes()
    log2 = _small_log(shared_dir / "logs" / "day2.jsonl", day=2)
    home, out = shared_dir / "home", shared_dir / "reports"
    for writable in (home, out):
        writable.mkdir()
        writable.chmod(0o777)
    if os.geteuid() != 0:  # not root: take the write permission away from ourselves instead
        for p in [shared_dir, *(shared_dir / "moved").rglob("*"), shared_dir / "moved"]:
            if p.is_dir():
                p.chmod(0o555)
    outcomes = _run_as_reader(
        [
            ["ingest", "-w", root, str(log2)],
            ["audit", "-w", root],
            ["nightly", "-w", root, "--logs", str(log2.parent)],
            ["ingest", "-w", str(shared_dir / "new-wh"), str(log2)],
            ["sql", "-w", root, "-f", "csv", "SELECT count(*) AS n FROM events"],
            ["report", "-w", root, "-o", str(out), "-q"],
        ],
        home,
    )
    *writers, query, report = outcomes
    for o in writers:
        assert o["exit"] == ExitCode.USAGE, o
        assert o["stderr"].count("\n") == 1 and o["stderr"].startswith("auditor: error: cannot "), o
        assert "Traceback" not in o["stderr"]
    assert root in writers[0]["stderr"] and "write access" in writers[0]["stderr"]
    assert str(shared_dir / "new-wh") in writers[3]["stderr"]
    assert query["exit"] == 0 and query["stdout"].splitlines() == ["n", "10"] and query["stderr"] == "", query
    assert report["exit"] == 0 and report["stderr"] == "", report
    assert (out / "index.html").is_file()
    assert (shared_dir / "moved" / "manifest.json").read_bytes() == before
    assert not (shared_dir / "new-wh").exists()


def test_a_reader_who_cannot_create_the_readers_lock_is_told_and_still_served(shared_dir: Path) -> None:
    wh = Warehouse.open(shared_dir / "wh", create=True)
    ingest(wh, [_small_log(shared_dir / "day1.jsonl")])
    # A warehouse no writer has touched since readers' locks came in, owned by another user.
    (shared_dir / "wh" / ".readers").unlink()
    home = shared_dir / "home"
    home.mkdir()
    home.chmod(0o777)
    if os.geteuid() != 0:
        (shared_dir / "wh").chmod(0o555)
    query = ["sql", "-w", str(shared_dir / "wh"), "-f", "csv", "SELECT count(*) AS n FROM events"]
    (before,) = _run_as_reader([query], home)
    assert before["exit"] == 0 and before["stdout"].splitlines() == ["n", "10"], before
    assert before["stderr"].count("\n") == 1 and before["stderr"].startswith("auditor: warning: cannot open "), before
    assert "may delete files it reads" in before["stderr"]
    if os.geteuid() != 0:
        (shared_dir / "wh").chmod(0o755)
    ingest(wh, [_small_log(shared_dir / "day2.jsonl", day=2)])  # any writer creates it
    (after,) = _run_as_reader([query], home)
    assert after["exit"] == 0 and after["stdout"].splitlines() == ["n", "20"] and after["stderr"] == "", after


# -- 10: the disk fills up ---------------------------------------------------------------------

# Runs auditor with a limit on the size of any file it writes (RLIMIT_FSIZE): the kernel then
# refuses the write (EFBIG), as it refuses one on a full disk (ENOSPC).
WITH_FILE_LIMIT = textwrap.dedent(
    """
    import resource, runpy, signal, sys
    limit = int(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    sys.argv = ["auditor", *sys.argv[2:]]
    runpy.run_module("auditor", run_name="__main__")
    """
)


def _auditor_with_file_limit(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-c", WITH_FILE_LIMIT, str(limit), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_write_refused_after_the_commit_is_a_warning_and_the_run_succeeds(tmp_path: Path, invoke) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [_small_log(tmp_path / "day1.jsonl")])
    generation = wh.manifest().generation
    # Every file of the run is a few kB; auditor.duckdb is larger than this limit.
    done = _auditor_with_file_limit(64 * 1024, "ingest", "-q", "-w", str(wh.root), str(_small_log(tmp_path / "day2.jsonl", 2)))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"auditor: warning: the run committed, but {wh.duckdb_path} could not be refreshed")
    assert "the next auditor command on the warehouse refreshes it" in done.stderr
    assert wh.manifest().generation == generation + 1
    assert _manifest_counts(wh)["events"] == 20
    # The next command refreshes the engineers' file.
    assert invoke("sql", "-w", wh.root, "select 1").exit_code == 0
    assert _duckdb_file_counts(wh) == _manifest_counts(wh)
    assert not list(wh.root.glob(".*.tmp*"))


def test_a_write_refused_before_the_commit_fails_the_run_in_one_line(tmp_path: Path) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [_small_log(tmp_path / "day1.jsonl")])
    before = wh.manifest_path.read_bytes()
    done = _auditor_with_file_limit(1024, "ingest", "-q", "-w", str(wh.root), str(_small_log(tmp_path / "day2.jsonl", 2, 200)))
    assert done.returncode == ExitCode.FAILED, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("auditor: error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert wh.manifest_path.read_bytes() == before


# -- 11: a stale auditor.duckdb ---------------------------------------------------------------------


def _rejects(n: int, run: str):
    import pyarrow as pa

    from auditor.tables import REJECTS

    return pa.table({"run_id": [run] * n, "file": ["f.jsonl"] * n, "line": list(range(1, n + 1)),
                     "reason": ["bad"] * n, "raw": ["x"] * n}, schema=REJECTS.schema)


def test_a_crash_between_commit_and_refresh_is_repaired_by_the_next_command(tmp_path: Path, invoke) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [_small_log(tmp_path / "day1.jsonl")])
    stale = _duckdb_file_counts(wh)
    # A run that dies right after its commit point: its files written and the manifest
    # replaced, nothing after that done.
    with wh.lock():
        tx = Transaction(wh, wh.manifest())
        tx.write("rejects", "run=r9", _rejects(3, "r9"))
        wh._write_manifest(Manifest(tx.base.generation + 1, tx.tables, tx.state))
    assert _duckdb_file_counts(wh) == stale != _manifest_counts(wh)
    result = invoke("sql", "-w", wh.root, "select 1")
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert _duckdb_file_counts(wh) == _manifest_counts(wh)
    assert _duckdb_file_counts(wh)["rejects"] == 3


def test_a_moved_warehouse_gets_its_views_rewritten(tmp_path: Path, invoke) -> None:
    wh = Warehouse.open(tmp_path / "wA", create=True)
    ingest(wh, [_small_log(tmp_path / "day1.jsonl")])
    os.rename(tmp_path / "wA", tmp_path / "wB")
    moved = Warehouse(tmp_path / "wB")
    with pytest.raises(duckdb.Error):  # its views name files under wA, which is gone
        _duckdb_file_counts(moved)
    result = invoke("sql", "-w", tmp_path / "wB", "select 1")
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert _duckdb_file_counts(moved) == _manifest_counts(moved)
    con = duckdb.connect(str(moved.duckdb_path), read_only=True)
    assert con.execute("SELECT generation, root FROM _auditor_build").fetchone() == (moved.manifest().generation, str(moved.root))
    assert not any("wA" in sql for (sql,) in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall())


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated"])
def test_a_missing_or_damaged_duckdb_file_is_rewritten(tmp_path: Path, invoke, damage: str) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [_small_log(tmp_path / "day1.jsonl")])
    if damage == "missing":
        wh.duckdb_path.unlink()
    elif damage == "garbage":
        wh.duckdb_path.write_bytes(b"not a database" * 100)
    else:
        with open(wh.duckdb_path, "r+b") as fh:
            fh.truncate(10_000)
    result = invoke("sql", "-w", wh.root, "-f", "csv", "select count(*) AS n from events")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["n", "10"], result.output
    assert _duckdb_file_counts(wh) == _manifest_counts(wh)


def _hold_lock(path: str, ready, release) -> None:  # pragma: no cover - runs in a child
    wh = Warehouse(Path(path))
    with wh.lock():
        ready.set()
        release.wait(60)


def test_a_reader_never_waits_for_the_lock_to_refresh(tmp_path: Path, invoke) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [_small_log(tmp_path / "day1.jsonl")])
    wh.duckdb_path.unlink()
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(wh.root), ready, release))
    child.start()
    try:
        assert ready.wait(60)
        held = invoke("sql", "-w", wh.root, "-f", "csv", "select count(*) AS n from events")
    finally:
        release.set()
        child.join(60)
    # The holder would refresh the file when it commits; the reader answered without it.
    assert held.exit_code == 0 and held.stdout.splitlines() == ["n", "10"], held.output
    assert not wh.duckdb_path.exists()
    assert invoke("sql", "-w", wh.root, "select 1").exit_code == 0
    assert _duckdb_file_counts(wh) == _manifest_counts(wh)


# -- 12: two processes create the same warehouse at once -------------------------------------------

ROUNDS = 10


def _create_many(base: str, barrier, outcomes) -> None:  # pragma: no cover - runs in a child
    for i in range(ROUNDS):
        barrier.wait(60)
        try:
            Warehouse.open(Path(base) / f"w{i:02d}", create=True)
            outcomes.put("ok")
        except Exception as exc:  # every outcome is reported to the test
            outcomes.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_creating_one_warehouse_both_get_it(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, outcomes = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_create_many, args=(str(tmp_path), barrier, outcomes)) for _ in range(2)]
    for w in workers:
        w.start()
    results = [outcomes.get(timeout=120) for _ in range(2 * ROUNDS)]
    for w in workers:
        w.join(60)
    assert results == ["ok"] * (2 * ROUNDS), sorted(set(results))
    for i in range(ROUNDS):
        wh = Warehouse.open(tmp_path / f"w{i:02d}")
        assert wh.manifest().generation == 0 and _duckdb_file_counts(wh) == _manifest_counts(wh)


def test_a_directory_left_by_a_creator_that_died_is_created_again(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    root.mkdir()
    (root / ".lock").write_text("auditor pid 999999 since 2026-10-01T00:00:00+00:00\n")
    (root / ".manifest.json.0badc0de.tmp").write_text("{")
    with pytest.raises(Exception, match="there is no warehouse"):
        Warehouse.open(root)
    wh = Warehouse.open(root, create=True)
    assert wh.manifest().generation == 0
