"""The parse alone of a snapshot file: pyarrow's strict reader (what ingest uses) beside DuckDB's JSON functions.

    /work/venv/bin/python benchmarks/bench_snapshot_ingest.py      # writes the input once
    /work/venv/bin/python benchmarks/bench_snapshot_parse.py       # then this, on its one-file shape

Reads the one-file input of bench_snapshot_ingest.py into memory, then times (CPU seconds of
this process, one thread each) the ways to turn its lines into typed columns: the floor under
any snapshot ingest that keeps today's reject rules (benchmarks/README.md, Snapshot ingest).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.json as pj

from auditor.ingest.snapshots import _PARSE_OPTIONS, ROW_FIELDS


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def duckdb_structure() -> str:
    """LINE_SCHEMA as a from_json structure."""
    names = {pa.string(): '"VARCHAR"', pa.int64(): '"BIGINT"', pa.float64(): '"DOUBLE"'}
    row = ", ".join(f'"{name}": {names[dtype]}' for name, dtype in ROW_FIELDS.items())
    return ('{"instance": "VARCHAR", "entity_set": "VARCHAR", "polled_at": "VARCHAR", "error": "VARCHAR", '
            '"collector": {"user": "VARCHAR", "application": "VARCHAR"}, "rows": [{' + row + "}]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=Path("/tmp/auditor-bench-snapshots/snapshots-300x1/one-file"))
    args = parser.parse_args()
    path = args.input if args.input.is_file() else next(args.input.iterdir())
    data = path.read_bytes()
    lines = [line for line in data.split(b"\n") if line.strip()]
    raw = pa.table({"raw": pa.array(lines, pa.binary()).cast(pa.string())})
    raw = pa.Table.from_batches(raw.to_batches(max_chunksize=8192))
    print(f"{path}: {len(data) / 1e6:,.0f} MB, {len(lines):,} lines")
    con = duckdb.connect(config={"threads": 1})
    con.register("lines", raw)
    structure = duckdb_structure()
    cases = {
        "pyarrow read_json, strict, LINE_SCHEMA": lambda: pj.read_json(
            pa.BufferReader(data), read_options=pj.ReadOptions(block_size=1 << 20, use_threads=False),
            parse_options=_PARSE_OPTIONS).num_rows,
        "duckdb from_json, lenient, rows counted": lambda: con.execute(
            "SELECT sum(len(from_json(raw, $s).rows)) FROM lines", {"s": structure}).fetchone()[0],
        "duckdb from_json, lenient, rows flattened": lambda: con.execute(
            "CREATE OR REPLACE TEMP TABLE flat AS SELECT unnest(from_json(raw, $s).rows, recursive := true) FROM lines",
            {"s": structure}).fetchone()[0],
        "duckdb json_valid": lambda: con.execute("SELECT count(*) FROM lines WHERE json_valid(raw)").fetchone()[0],
        "duckdb regexp_matches, one type check": lambda: con.execute(
            "SELECT count(*) FROM lines WHERE regexp_matches(raw, $p)",
            {"p": '"(' + "|".join(n for n, t in ROW_FIELDS.items() if t == pa.string()) + r')"\s*:\s*[^"\sn]'}).fetchone()[0],
    }
    rows = int(con.execute("SELECT sum(len(from_json(raw, $s).rows)) FROM lines", {"s": structure}).fetchone()[0])
    print(f"{rows:,} session rows")
    print(f"{'way':45s} {'CPU s':>7s} {'µs/row':>7s}")
    for name, run in cases.items():
        cpu = cpu_s()
        wall = time.perf_counter()
        run()
        cpu, wall = cpu_s() - cpu, time.perf_counter() - wall
        print(f"{name:45s} {cpu:7.2f} {cpu / rows * 1e6:7.2f}  (wall {wall:.2f} s)")


if __name__ == "__main__":
    main()
