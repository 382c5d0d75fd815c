"""The Parquet files the audit writes: one way (auditor/audit/outputs.py, PARQUET_COPY), read by every tool."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

import reference
from auditor.audit import run_audit
from auditor.audit.outputs import PARQUET_COPY
from auditor.queries import run_query
from auditor.warehouse import Warehouse

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=timezone.utc)


def _encodings(path: Path, column: str) -> set[str]:
    meta = pq.ParquetFile(path).metadata
    index = meta.schema.names.index(column)
    return {enc for g in range(meta.num_row_groups) for enc in meta.row_group(g).column(index).encodings}


def test_the_audit_writes_version_2_pages_that_polars_pyarrow_and_duckdb_read_alike(tmp_path) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    reference.write_events(wh, [
        {"ts": T0 + timedelta(minutes=m + i), "instance": "acme", "event": kind, "session_id": f"s{i}", "seats": 1,
         "user": f"u{i}"}
        for i in range(40) for m, kind in ((0, "login"), (5, "request"), (15, "logout"))
    ])
    run_audit(wh, allow_empty_entitlements=True)
    files = sorted((tmp_path / "wh" / "sessions").rglob("*.parquet"))
    assert files
    # version 2 pages: the timestamps delta-encoded (version 1 writes them plain)
    assert "DELTA_BINARY_PACKED" in _encodings(files[0], "start_ts")
    con = wh.connect()
    try:
        by_duckdb = con.sql("SELECT * FROM sessions ORDER BY session_id, segment").to_arrow_table()
    finally:
        con.close()
    by_polars = pl.read_parquet(files).sort("session_id", "segment")
    assert by_polars.height == by_duckdb.num_rows == 40
    assert by_polars.drop("date", strict=False).to_dicts() == pl.from_arrow(by_duckdb).drop("date", strict=False).to_dicts()
    assert pq.read_table(files[0]).num_rows == by_polars.height


def test_a_partition_in_several_files_is_merged_into_one_written_alike(tmp_path) -> None:
    con = duckdb.connect()
    parts = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    for n, path in enumerate(parts):
        con.execute("COPY (SELECT range AS n, TIMESTAMPTZ '2026-10-05 08:00:00+00' + to_microseconds(range) AS ts "
                    "FROM range($lo, $hi)) TO $path (FORMAT parquet)", {"lo": n * 100, "hi": n * 100 + 100, "path": str(path)})
    merged = tmp_path / "merged.parquet"
    run_query(con, "audit/merge_parquet", {"files": [str(p) for p in parts], "path": str(merged), **PARQUET_COPY})
    assert sorted(pq.read_table(merged).column("n").to_pylist()) == list(range(200))
    assert "DELTA_BINARY_PACKED" in _encodings(merged, "ts")
