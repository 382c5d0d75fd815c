"""Snapshot ingest speed: session rows per second, beside a plain DuckDB read_json of the same files.

    /work/venv/bin/python benchmarks/bench_snapshot_ingest.py                      # 300 instances x 1 day
    /work/venv/bin/python benchmarks/bench_snapshot_ingest.py --instances 30 --repeat 3

A deterministic generator (seeded per instance) simulates each instance's sessions and polls
them every 5 minutes for --days days: 10 to 30 sessions listed a poll, one failed poll in
fifty. The same lines are written in three shapes (kept in --workdir): ``one-file`` (all
lines in one file, instance by instance), ``random`` (the same lines shuffled, in one file)
and ``per-instance`` (one file per instance and day, as ``auditor collect`` writes). Each
shape is ingested end to end into an empty warehouse in a fresh child process (imports
before the clock starts), and read by the plain alternative a user would write: DuckDB's
``read_json`` with the columns declared, into the same two tables (polls, polled_sessions)
as Parquet files, with no validation, no de-duplication, no rejects and no accounting.
Target (issue 11): at least 500,000 session rows (elements of ``rows``) per second. The CPU
seconds (every thread's) are printed beside the wall time: on a machine shared with other
work they say more than the wall time does.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench_ingest_files import _run  # one child process per run, its figures as JSON
from benchline import PEAK_RSS, bench_line, load

CHILD = PEAK_RSS + textwrap.dedent(
    """
    import resource
    def cpu_s():  # every thread's, user and system: what the run costs, whatever else shares the cores
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    """
)
INGEST = CHILD + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from auditor.ingest import ingest
    from auditor.warehouse import Warehouse
    wh = Warehouse.open(Path(sys.argv[1]), create=True)
    t, cpu = time.perf_counter(), cpu_s()
    result = ingest(wh, [Path(sys.argv[2])])
    elapsed, cpu = time.perf_counter() - t, cpu_s() - cpu
    con = wh.connect()
    sessions = con.execute("SELECT count(*) FROM polled_sessions").fetchone()[0]
    print(json.dumps({"seconds": elapsed, "lines": result.accepted, "rejected": result.rejected, "sessions": sessions,
                      "cpu_s": cpu, "peak_rss_mb": peak_rss_mb()}))
    """
)
DUCKDB = CHILD + textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    row = ("STRUCT(SessionId VARCHAR, UserLogin VARCHAR, \\"User\\" VARCHAR, StartTime TIMESTAMPTZ, "
           "LastRequestTime TIMESTAMPTZ, AbsoluteExpirationTime TIMESTAMPTZ, Applications VARCHAR, Device VARCHAR, "
           "CurrentRequestsCount INTEGER, TotalRequestsCount BIGINT, DownloadMB DOUBLE, UploadMB DOUBLE)[]")
    columns = {"instance": "VARCHAR", "entity_set": "VARCHAR", "polled_at": "TIMESTAMPTZ", "error": "VARCHAR",
               "collector": "STRUCT(\\"user\\" VARCHAR, application VARCHAR)", "rows": row}
    out = sys.argv[1]
    t, cpu = time.perf_counter(), cpu_s()
    con.execute("CREATE TABLE lines AS SELECT * FROM read_json($glob, format = 'newline_delimited', columns = $columns)",
                {"glob": sys.argv[2] + "/**/*.jsonl", "columns": columns})
    con.execute("COPY (SELECT instance, polled_at, rows IS NOT NULL AS ok, error, len(rows) AS listed, "
                "collector.user AS collector_user, collector.application AS collector_application, entity_set "
                "FROM lines ORDER BY instance, polled_at) TO $out (FORMAT parquet, COMPRESSION zstd)",
                {"out": out + "-polls.parquet"})
    con.execute("COPY (SELECT instance, polled_at, r.SessionId AS session_id, coalesce(r.UserLogin, r.\\"User\\") AS \\"user\\", "
                "r.StartTime AS start_time, r.LastRequestTime AS last_request_time, "
                "r.AbsoluteExpirationTime AS absolute_expiration_time, r.Applications AS applications, r.Device AS device, "
                "r.CurrentRequestsCount AS current_requests, r.TotalRequestsCount AS total_requests, "
                "r.DownloadMB AS download_mb, r.UploadMB AS upload_mb "
                "FROM (SELECT instance, polled_at, unnest(rows) AS r FROM lines) ORDER BY instance, polled_at, session_id) "
                "TO $out (FORMAT parquet, COMPRESSION zstd)", {"out": out + "-sessions.parquet"})
    elapsed, cpu = time.perf_counter() - t, cpu_s() - cpu
    lines = con.execute("SELECT count(*) FROM lines").fetchone()[0]
    sessions = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": out + "-sessions.parquet"}).fetchone()[0]
    print(json.dumps({"seconds": elapsed, "lines": lines, "rejected": None, "sessions": sessions,
                      "cpu_s": cpu, "peak_rss_mb": peak_rss_mb()}))
    """
)
START = datetime(2026, 11, 2, tzinfo=timezone.utc)
POLL_EVERY = timedelta(minutes=5)
APPLICATIONS = ["ERP.net Web Client", "ERP.net Desktop Client", "ERP.net Mobile", "Warehouse scanner"]
COLLECTOR = {"user": "auditor-collector", "application": "ERP.net auditor collector"}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def instance_lines(n: int, days: int) -> list[str]:
    """One instance's poll lines: sessions that start and end between polls, 10 to 30 listed at a time."""
    rng = random.Random(n)
    name = f"i{n:03d}.my.erp.net"
    alive: list[dict] = []
    serial = 0
    lines = []
    t = START
    while t < START + timedelta(days=days):
        target = rng.randint(10, 30)
        alive = [s for s in alive if rng.random() > 0.15]
        while len(alive) < target:
            serial += 1
            started = t - timedelta(seconds=rng.randint(1, 299))
            alive.append({"SessionId": f"{n:03d}-{serial:08x}", "UserLogin": f"user{rng.randint(1, 60)}",
                          "StartTime": _iso(started), "Applications": rng.choice(APPLICATIONS),
                          "Device": f"PC-{rng.randint(1, 99)}", "TotalRequestsCount": 0, "DownloadMB": 0.0, "UploadMB": 0.0})
        polled = t + timedelta(milliseconds=rng.randint(0, 900))
        line = {"instance": name, "entity_set": "Systems_Monitoring_CurrentSessions", "polled_at": _iso(polled),
                "collector": COLLECTOR}
        if rng.random() < 0.02:
            line["error"] = "HTTP 503 Service Unavailable"
        else:
            rows = []
            for s in alive:
                s["TotalRequestsCount"] += rng.randint(0, 40)
                s["DownloadMB"] = round(s["DownloadMB"] + rng.random(), 3)
                s["UploadMB"] = round(s["UploadMB"] + rng.random() / 10, 3)
                rows.append({**s, "LastRequestTime": _iso(polled - timedelta(seconds=rng.randint(0, 600))),
                             "CurrentRequestsCount": rng.randint(0, 2)})
            line["rows"] = rows
        lines.append(json.dumps(line, separators=(",", ":")))
        t += POLL_EVERY
    return lines


def _inputs(workdir: Path, instances: int, days: int) -> tuple[dict[str, Path], int]:
    """The three shapes of the same lines (kept between runs), and the number of session rows."""
    base = workdir / f"snapshots-{instances}x{days}"
    shapes = {shape: base / shape for shape in ("one-file", "random", "per-instance")}
    marker = base / ".complete"
    if marker.is_file():
        return shapes, int(marker.read_text())
    shutil.rmtree(base, ignore_errors=True)
    for folder in shapes.values():
        folder.mkdir(parents=True)
    everything: list[str] = []
    rows = 0
    for n in range(instances):
        lines = instance_lines(n, days)
        everything += lines
        rows += sum(line.count('"SessionId"') for line in lines)
        for day in range(days):
            per_day = [line for line in lines if f'"polled_at":"{(START + timedelta(days=day)):%Y-%m-%d}' in line]
            folder = shapes["per-instance"] / f"i{n:03d}.my.erp.net"
            folder.mkdir(exist_ok=True)
            (folder / f"{START + timedelta(days=day):%Y-%m-%d}.jsonl").write_text("\n".join(per_day) + "\n")
    (shapes["one-file"] / "all.jsonl").write_text("\n".join(everything) + "\n")
    random.Random(0).shuffle(everything)
    (shapes["random"] / "all.jsonl").write_text("\n".join(everything) + "\n")
    marker.write_text(str(rows))
    return shapes, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/auditor-bench-snapshots"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is reported")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    shapes, rows = _inputs(args.workdir, args.instances, args.days)
    size = sum(p.stat().st_size for p in shapes["one-file"].iterdir()) / 1e6
    print(f"{args.instances} instances x {args.days} day(s): {rows:,} session rows, {size:,.0f} MB a shape")
    print(f"{'shape':<13} {'what':<18} {'seconds':>8} {'rows/s':>10} {'CPU s':>7} {'rows/CPU s':>11} {'peak RSS MB':>12}"
          "  load (1/5/15 min)")
    for shape, folder in shapes.items():
        for what, child in (("auditor ingest", INGEST), ("duckdb read_json", DUCKDB)):
            best = None
            for _ in range(args.repeat):
                figures = _run(child, args.workdir / "out", folder)
                assert figures["sessions"] == rows, (figures, rows)
                if best is None or figures["seconds"] < best["seconds"]:
                    best = figures
            assert best is not None
            at = load()
            print(f"{shape:<13} {what:<18} {best['seconds']:>8.2f} {rows / best['seconds']:>10,.0f} {best['cpu_s']:>7.1f} "
                  f"{rows / best['cpu_s']:>11,.0f} {best['peak_rss_mb']:>12.0f}  {at}", flush=True)
            if what == "auditor ingest":  # for benchmarks/run_all.py: issue 11's target
                bench_line("snapshot_ingest", f"snapshot ingest {shape}: session rows/s (target >= 500k)",
                           rows / best["seconds"], 500_000, higher_is_better=True)
    shutil.rmtree(args.workdir / "out", ignore_errors=True)


if __name__ == "__main__":
    main()
