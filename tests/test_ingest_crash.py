"""A run killed mid-write leaves the warehouse as before or as after it; the next run succeeds."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from tests.ingest_support import event, rows, write_events, write_lines

# The child ingests, and SIGKILLs itself at the named point of the commit.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from auditor import warehouse
    from auditor.ingest import ingest, staging

    point = sys.argv[1]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after-staging":          # staged batches written, nothing merged
        staging.StagingSession.staged_days = die
    elif point == "before-manifest":      # every new file written, manifest not yet replaced
        warehouse.Warehouse._write_manifest = die
    elif point == "after-manifest":       # manifest replaced, views and garbage not yet done
        warehouse.Warehouse.refresh_duckdb_file = die
    ingest(warehouse.Warehouse.open(sys.argv[2]), sys.argv[3:])
    """
)

STATE = [
    "SELECT count(*), min(ts), max(ts), count(DISTINCT instance) FROM events",
    'SELECT count(*) FROM rejects',
    'SELECT count(*), sum("read"), sum(accepted) FROM ingest_log',
]


def _state(wh: Warehouse) -> list:
    return [rows(wh, q) for q in STATE] + [wh.state()]


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    first = write_events(tmp_path / "day1.jsonl", [event(ts=f"2026-10-01T08:{m:02d}:00Z", session_id=f"s{m}") for m in range(30)])
    second = tmp_path / "day2.csv"
    write_events(second, [event(ts=f"2026-10-02T09:{m:02d}:00Z", session_id=f"s{m}", instance="b.my.erp.net") for m in range(20)])
    write_lines(tmp_path / "bad.jsonl", ["{nope"])
    return first, second


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-staging", "before-manifest", "after-manifest"])
def test_killed_run_then_rerun(tmp_path: Path, point: str) -> None:
    first, second = _inputs(tmp_path)
    bad = tmp_path / "bad.jsonl"
    # what an uninterrupted history gives
    clean = Warehouse.open(tmp_path / "clean", create=True)
    ingest(clean, [first])
    before_clean = _state(clean)
    ingest(clean, [second, bad])
    after_clean = _state(clean)

    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [first])
    assert _state(wh) == before_clean
    child = subprocess.run([sys.executable, "-c", CHILD, point, str(wh.root), str(second), str(bad)], capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr

    state = _state(wh)
    expected = after_clean if point == "after-manifest" else before_clean
    assert state == expected
    # the warehouse is readable and consistent with its manifest, and the next run succeeds
    result = ingest(wh, [second, bad])
    if point == "after-manifest":
        assert result.accepted == 0 and result.duplicates == 20
    else:
        assert result.accepted == 20
    assert [rows(wh, q) for q in STATE[:1]] == [rows(clean, q) for q in STATE[:1]]
    assert sorted(p.name for p in (wh.root / "events").rglob("*.parquet")) == sorted(p.name for p in wh.files("events"))
    assert not (wh.root / "_scratch").exists() or not any((wh.root / "_scratch").iterdir())
