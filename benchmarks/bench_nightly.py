"""How the cost of a night grows: with the new data, not with the history.

Generates one fleet over 61 days, then builds two warehouses from it with
`auditor nightly`: one holding days 54-60 (7 days of history), one holding days
1-60 (60 days). Each is then handed the same new file, day 61, and that one
`auditor nightly` is timed (a fresh copy of the warehouse per repeat; median
reported). Target: the 60-day night within 1.5x the 7-day night.

    /tmp/venv/bin/python benchmarks/bench_nightly.py                 # 2,500 instances: ~1M sessions in 60 days
    /tmp/venv/bin/python benchmarks/bench_nightly.py --instances 200 # a quick look
    /tmp/venv/bin/python benchmarks/bench_nightly.py --reports       # the night re-renders reports too
    /tmp/venv/bin/python benchmarks/bench_nightly.py --never-pausing 25   # issue 13 target 3: 1% never pause

--never-pausing N adds N instances that never pause (a client_credentials service
polling every 5 minutes, day and night: its one-hour segments follow each other
back to back, so no instant of its history is quiet) to every day file, with
their entitlements.

Prints the history sizes, both nightly times with their stage durations (from
the run records), the ratio, and the machine's load (the figures mean little on
a busy machine). --check then runs the 60-day night once more and compares every
audit table with what a full audit of the same warehouse writes (exit 1 if a row
differs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchline import bench_line, load

HERE = Path(__file__).resolve().parent
DAYS = 61
# A Monday: the new day (the 61st) is then a Friday, a working day's load.
START = date(2026, 8, 31)


def auditor(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI the way a scheduler does."""
    exe = shutil.which("auditor", path=str(Path(sys.executable).parent)) or "auditor"
    proc = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 3):
        sys.exit(f"auditor {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def generate_fleet(data: Path, instances: int, seed: int, never_pausing: int) -> tuple[list[Path], Path]:
    """Day files (oldest first) and the entitlements, generated once and reused."""
    from auditor.generate import generate

    marker = data / "done.json"
    wanted = {"instances": instances, "seed": seed, "days": DAYS, "start": START.isoformat(), "never_pausing": never_pausing}
    if not (marker.is_file() and json.loads(marker.read_text()) == wanted):
        shutil.rmtree(data, ignore_errors=True)
        t = time.perf_counter()
        generate(data, seed=seed, instances=instances, days=DAYS, start=START)
        add_never_pausing(data, never_pausing)
        print(f"generated {instances} instances x {DAYS} days ({never_pausing} never pausing) "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        marker.write_text(json.dumps(wanted))
    days = [START + timedelta(days=i) for i in range(DAYS)]
    files = []
    for day in days:
        found = sorted((data / "logs").glob(f"{day.isoformat()}.*"))
        if not found:
            sys.exit(f"the generator wrote no file for {day} under {data / 'logs'}")
        files.extend(found)
    return files, data / "entitlements.csv"


def add_never_pausing(data: Path, count: int) -> None:
    """Append COUNT never-pausing services to the generated day files (uncompressed JSON Lines) and entitlements."""
    if not count:
        return
    names = [f"service{i:03d}.my.erp.net" for i in range(count)]
    with (data / "entitlements.csv").open("a", encoding="utf-8") as ents:
        for name in names:
            ents.write(f"{name},Service {name[7:10]} Ltd,small-business-basic,0,2026-01-01,,UTC,\n")
    for day in (START + timedelta(days=i) for i in range(DAYS)):
        (path,) = (data / "logs").glob(f"{day.isoformat()}.jsonl")
        with path.open("a", encoding="utf-8") as log:
            for minute in range(0, 24 * 60, 5):
                ts = f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00Z"
                for name in names:
                    log.write(json.dumps({"ts": ts, "instance": name, "event": "request", "session_id": "sync",
                                          "seats": 1, "user": "robot", "user_type": "INT",
                                          "auth_flow": "client_credentials"}) + "\n")


def build_history(work: Path, name: str, files: list[Path], entitlements: Path, rebuild: bool) -> Path:
    """A folder with a warehouse that has seen FILES (logs/), built by one nightly run; reused when built."""
    wh, logs = work / name / "warehouse", work / name / "logs"
    marker = work / name / "done.json"
    wanted = [f.name for f in files]
    if not rebuild and marker.is_file() and json.loads(marker.read_text()) == wanted:
        return work / name
    shutil.rmtree(work / name, ignore_errors=True)
    logs.mkdir(parents=True)
    for f in files:
        os.link(f, logs / f.name)
    t = time.perf_counter()
    auditor("nightly", "--warehouse", wh, "--logs", logs, "--entitlements", entitlements, "--quiet")
    print(f"built {name}: {len(files)} day files in {time.perf_counter() - t:.1f} s", flush=True)
    marker.write_text(json.dumps(wanted))
    return work / name


def history_size(site: Path) -> tuple[int, int]:
    out = auditor(
        "sql", "--warehouse", site / "warehouse", "--format", "json",
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM sessions) AS sessions",
    ).stdout
    row = json.loads(out)[0]
    return int(row["events"]), int(row["sessions"])


def timed_night(work: Path, name: str, history: Path, new_file: Path, entitlements: Path, reports: bool,
                keep: bool = False) -> dict:
    """Copy the history warehouse, add NEW_FILE to its logs, time one `auditor nightly` (KEEP: leave the copy)."""
    trial = work / f"{name}-trial"
    shutil.rmtree(trial, ignore_errors=True)
    shutil.copytree(history / "warehouse", trial / "warehouse")
    (trial / "logs").mkdir()
    for f in [*(history / "logs").iterdir(), new_file]:
        os.link(f, trial / "logs" / f.name)
    args = ["nightly", "--warehouse", trial / "warehouse", "--logs", trial / "logs", "--entitlements", entitlements]
    if reports:
        args += ["--reports", trial / "reports"]
    t = time.perf_counter()
    auditor(*args)
    wall = time.perf_counter() - t
    record = json.loads(
        auditor(
            "sql", "--warehouse", trial / "warehouse", "--format", "json",
            "SELECT audit_mode, files_ingested, events_accepted, ingest_s, audit_s, report_s, total_s "
            "FROM nightly_runs ORDER BY started_at DESC LIMIT 1",
        ).stdout
    )[0]
    record["wall_s"] = wall
    if not keep:
        shutil.rmtree(trial, ignore_errors=True)
    return record


def differing_from_full(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Per audit table: its rows after the night, and how many differ (EXCEPT ALL both ways) from what
    a full `auditor audit` of the same warehouse then writes."""
    import duckdb

    from auditor.audit import run_audit
    from auditor.tables import AUDIT_OUTPUTS
    from auditor.warehouse import Warehouse

    tables = [table.name for table in AUDIT_OUTPUTS]

    wh = Warehouse.open(warehouse)
    saved = warehouse.parent / "before-full"
    shutil.rmtree(saved, ignore_errors=True)
    saved.mkdir()
    con = wh.connect()
    for table in tables:
        con.execute(f"COPY (SELECT * FROM {table}) TO $path (FORMAT parquet)", {"path": f"{saved / table}.parquet"})
    con.close()
    run_audit(wh)
    con = wh.connect()
    out = {}
    for table in tables:
        night = {"path": f"{saved / table}.parquet"}
        rows = con.execute("SELECT count(*) FROM read_parquet($path)", night).fetchone()[0]
        (differ,) = con.execute(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet($path) EXCEPT ALL SELECT * FROM {table}))"
            f" + (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT * FROM read_parquet($path)))", night
        ).fetchone()
        out[table] = (rows, differ)
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reports", action="store_true", help="the timed nights also re-render reports")
    ap.add_argument("--work", type=Path, default=HERE / "work" / "nightly")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the history warehouses (after a change of auditor)")
    ap.add_argument("--check", action="store_true",
                    help="then check that the 60-day night's tables equal a full audit's (minutes)")
    ap.add_argument("--never-pausing", type=int, default=0, metavar="N",
                    help="add N instances that never pause (issue 13 target 3: 1%% of the fleet)")
    args = ap.parse_args()

    work = args.work / (f"i{args.instances}-s{args.seed}" + (f"-np{args.never_pausing}" if args.never_pausing else ""))
    files, entitlements = generate_fleet(work / "data", args.instances, args.seed, args.never_pausing)
    history_files, new_file = files[:-1], files[-1]
    histories = {
        "7 days": build_history(work, "h7", history_files[-7:], entitlements, args.rebuild),
        "60 days": build_history(work, "h60", history_files, entitlements, args.rebuild),
    }
    print(f"load before timing: {load()}", flush=True)
    medians, inside = {}, {}
    for label, site in histories.items():
        events, sessions = history_size(site)
        runs = [timed_night(work, label.replace(" ", ""), site, new_file, entitlements, args.reports) for _ in range(args.repeat)]
        medians[label] = statistics.median(r["wall_s"] for r in runs)
        inside[label] = statistics.median(r["total_s"] for r in runs)
        best = min(runs, key=lambda r: r["wall_s"])
        print(
            f"history {label:>7}: {events:>11,} events {sessions:>10,} sessions | night adding {new_file.name}: "
            f"median {medians[label]:.2f} s of {len(runs)} (best: ingest {best['ingest_s']:.2f} s, "
            f"audit {best['audit_s']:.2f} s [{best['audit_mode']}], report {best['report_s']:.2f} s, "
            f"in-process total {best['total_s']:.2f} s; {best['events_accepted']:,} new events)",
            flush=True,
        )
    ratio = medians["60 days"] / medians["7 days"]
    ratio_inside = inside["60 days"] / inside["7 days"]
    print(
        f"ratio 60-day / 7-day night: {ratio:.2f} for the command (target <= 1.5), "
        f"{ratio_inside:.2f} for the run itself (the run record's total_s, without process start-up); "
        f"reports {'on' if args.reports else 'off'}"
    )
    print(f"load after timing: {load()}")
    if args.check:
        timed_night(work, "check", histories["60 days"], new_file, entitlements, False, keep=True)
        found = differing_from_full(work / "check-trial" / "warehouse")
        shutil.rmtree(work / "check-trial", ignore_errors=True)
        for table, (rows, differ) in found.items():
            print(f"check {table:>16}: {rows:>10,} rows after the night, {differ} differ from a full audit's")
        if any(differ for _, differ in found.values()):
            sys.exit("the 60-day night's tables differ from a full audit's")
    fleet = f"{args.instances:,} instances, {args.never_pausing} never pausing, reports {'on' if args.reports else 'off'}"
    target = "issue 13 target 3" if args.never_pausing else "issue 5"
    bench_line("nightly", f"60-day night s vs 7-day night s, {fleet} ({target}: <= 1.5x)",
               medians["60 days"], medians["7 days"])
    bench_line("nightly", f"60-day night vs 7-day night, run records' total_s (no process start-up), {fleet}",
               inside["60 days"], inside["7 days"])


if __name__ == "__main__":
    main()
