"""Ingest time for many small files: N one-line files in one directory, N = 5,000 and 50,000.

    /tmp/venv/bin/python benchmarks/bench_ingest_files.py
    /tmp/venv/bin/python benchmarks/bench_ingest_files.py --counts 5000 --repeat 3

Each run is timed end to end in a fresh child process (imports before the clock
starts): ``auditor.ingest.ingest`` of the directory into an empty warehouse, and,
beside it, the plain alternative a user would pick: one DuckDB statement that reads
the same files with ``read_json`` and writes them to one Parquet file (no checks,
no de-duplication, no per-file accounting). The inputs are kept in --workdir.
Targets (issue 9): 5,000 files in under 10 s, 50,000 in under 100 s: the time must
grow linearly with the number of files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchline import PEAK_RSS, bench_line, load

#: Issue 9's budget: 10 s per 5,000 files, whatever their number (5,000 in 10 s, 50,000 in 100 s).
SECONDS_PER_FILE = 10 / 5000

INGEST = PEAK_RSS + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from auditor.ingest import ingest
    from auditor.warehouse import Warehouse
    try:
        import pandas  # DuckDB imports it on the first Arrow table it is handed: a start-up cost, like the imports
    except ImportError:
        pass
    wh = Warehouse.open(Path(sys.argv[1]), create=True)
    t = time.perf_counter()
    result = ingest(wh, [Path(sys.argv[2])])
    elapsed = time.perf_counter() - t
    print(json.dumps({"seconds": elapsed, "files": len(result.files), "accepted": result.accepted,
                      "peak_rss_mb": peak_rss_mb()}))
    """
)
DUCKDB = PEAK_RSS + textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute("COPY (SELECT * FROM read_json($glob, format = 'newline_delimited')) TO $out (FORMAT parquet)",
                {"glob": sys.argv[2] + "/*.jsonl", "out": sys.argv[1] + ".parquet"})
    elapsed = time.perf_counter() - t
    rows = con.execute("SELECT count(*) FROM read_parquet($out)", {"out": sys.argv[1] + ".parquet"}).fetchone()[0]
    print(json.dumps({"seconds": elapsed, "files": None, "accepted": rows,
                      "peak_rss_mb": peak_rss_mb()}))
    """
)


def _inputs(workdir: Path, count: int) -> Path:
    """COUNT files of one event each (kept between runs)."""
    logs = workdir / f"files-{count}"
    marker = logs / ".complete"
    if marker.is_file():
        return logs
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    for i in range(count):
        event = {
            "ts": (start + timedelta(seconds=17 * i)).isoformat().replace("+00:00", "Z"),
            "instance": f"i{i % 200:03d}.my.erp.net",
            "event": "login",
            "session_id": f"s{i}",
            "user": f"user{i % 900}",
        }
        (logs / f"{i:06d}.jsonl").write_text(json.dumps(event) + "\n")
    marker.write_text("")
    return logs


def _run(child: str, out: Path, logs: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    out.with_suffix(".parquet").unlink(missing_ok=True)
    run = subprocess.run([sys.executable, "-c", child, str(out), str(logs)], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"run failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="5000,50000", help="comma-separated numbers of files")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/auditor-bench-files"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is reported")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    print(f"{'files':>7} {'what':<24} {'seconds':>8} {'files/s':>9} {'peak RSS MB':>12}  load (1/5/15 min)")
    for count in (int(c) for c in args.counts.split(",")):
        logs = _inputs(args.workdir, count)
        seconds = {}
        for what, child in (("auditor ingest", INGEST), ("duckdb read_json->parquet", DUCKDB)):
            best = None
            for _ in range(args.repeat):
                figures = _run(child, args.workdir / "out", logs)
                assert figures["accepted"] == count, figures
                if best is None or figures["seconds"] < best["seconds"]:
                    best = figures
            assert best is not None
            seconds[what] = best["seconds"]
            print(
                f"{count:>7,} {what:<24} {best['seconds']:>8.2f} {count / best['seconds']:>9,.0f} "
                f"{best['peak_rss_mb']:>12.0f}  {load()}",
                flush=True,
            )
        bench_line("ingest_files", f"ingest {count:,} one-line files s vs the budget s (issue 9: <= 1x)",
                   seconds["auditor ingest"], count * SECONDS_PER_FILE)
        bench_line("ingest_files", f"ingest {count:,} one-line files s vs duckdb read_json->parquet s (no target)",
                   seconds["auditor ingest"], seconds["duckdb read_json->parquet"])
        shutil.rmtree(args.workdir / "out", ignore_errors=True)
        (args.workdir / "out.parquet").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
