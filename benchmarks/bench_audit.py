"""How fast `auditor audit` is, against its floor and the tools an analyst would reach for.

Generates a fleet (default 10,000 instances x 30 days: about 2M sessions and 20M+
events) with `auditor.generate`, ingests it with `auditor ingest`, then prints:

- the floor: DuckDB reading the event columns the audit needs and sorting them once
  by instance, session and time, nothing more (a child process);
- `auditor audit` from the warehouse to all tables (a child process; peak RSS from
  wait4), and within it the sweep's part (sessions -> usage steps, breaches, days,
  daily usage), measured in a second, instrumented run;
- a plain Python sweep computing the daily peaks and time over the limit from the
  same sessions, on a subset of instances, scaled by counted sessions;
- the `staircase` library doing the same on the same subset, scaled likewise;
- the ratios against the targets (audit <= 3x floor, >= 20x faster than the plain
  sweep, sweep faster than staircase, RSS < 4 GB), and the load average.

    /tmp/venv/bin/python benchmarks/bench_audit.py                      # the issue's size
    /tmp/venv/bin/python benchmarks/bench_audit.py --instances 500     # a quick look

Generated data and the warehouse are kept under --work and reused when the size
and seed are unchanged. Figures on a busy machine mean little: look at the load.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

START = date(2026, 10, 1)
SWEEP_STEPS = ("audit_usage_steps", "audit_breaches", "audit_days", "audit_daily_usage")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def exe() -> str:
    return shutil.which("auditor", path=str(Path(sys.executable).parent)) or "auditor"


def run_measured(args: list[str]) -> tuple[float, float, str]:
    """Run ARGS and return (wall seconds, its own peak RSS in GB, stdout)."""
    t = time.perf_counter()
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-audit-{os.getpid()}.out"
    with open(out_path, "w") as out, open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(args, stdout=out, stderr=devnull)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed with status {status}")
    text = out_path.read_text()
    out_path.unlink()
    return wall, usage.ru_maxrss / 1024 / 1024, text


def prepare(work: Path, instances: int, days: int, seed: int) -> tuple[Path, Path]:
    """The generated logs' entitlements and an ingested warehouse (both reused when unchanged)."""
    from auditor.generate import generate

    data, wh = work / "data", work / "warehouse"
    wanted = {"instances": instances, "days": days, "seed": seed, "start": START.isoformat()}
    marker = work / "prepared.json"
    if marker.is_file() and json.loads(marker.read_text()) == wanted and wh.is_dir():
        return data / "entitlements.csv", wh
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t = time.perf_counter()
    result = generate(data, seed=seed, instances=instances, days=days, start=START)
    print(f"generated {result.events:,} events ({result.sessions:,} sessions) in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    subprocess.run([exe(), "ingest", "-q", "-w", str(wh), str(data / "logs")], check=True)
    print(f"ingested in {time.perf_counter() - t:.1f} s", flush=True)
    marker.write_text(json.dumps(wanted))
    return data / "entitlements.csv", wh


# --- child modes --------------------------------------------------------------------

def floor(wh_path: Path) -> None:
    """Read the columns the audit needs and sort them once; print the seconds."""
    from auditor.warehouse import Warehouse

    con = Warehouse.open(wh_path).connect()
    t = time.perf_counter()
    con.execute(
        "CREATE TEMP TABLE sorted_events AS "
        "SELECT instance, session_id, ts, event, seats, \"user\", user_type, device, app, auth_flow "
        "FROM events ORDER BY instance, session_id, ts"
    )
    print(json.dumps({"floor_s": time.perf_counter() - t}))


def instrumented(wh_path: Path) -> None:
    """Run the audit in-process with each statement timed; print the timings."""
    import auditor.audit as audit_mod
    from auditor.queries import run_query
    from auditor.warehouse import Warehouse

    timings: dict[str, float] = defaultdict(float)

    def timed(con, name, params=None):
        t = time.perf_counter()
        try:
            return run_query(con, name, params)
        finally:
            timings[name] += time.perf_counter() - t

    audit_mod.run_query = timed  # the module's own reference: every statement goes through it
    t = time.perf_counter()
    audit_mod.run_audit(Warehouse.open(wh_path))
    total = time.perf_counter() - t
    print(json.dumps({"total_s": total, "steps": timings}))


# --- the peers ----------------------------------------------------------------------

def subset_inputs(wh_path: Path, count: int):
    """Counted sessions of positive length, limits and time zones of the first COUNT instances."""
    from auditor.warehouse import Warehouse

    con = Warehouse.open(wh_path).connect()
    names = [r[0] for r in con.execute("SELECT DISTINCT instance FROM sessions ORDER BY 1 LIMIT $n", {"n": count}).fetchall()]
    sessions = con.execute(
        "SELECT instance, start_ts, end_ts, seats FROM sessions "
        "WHERE counted AND end_ts > start_ts AND list_contains($names, instance) ORDER BY instance, start_ts",
        {"names": names},
    ).fetchall()
    ents = con.execute(
        "SELECT instance, valid_from_ts, valid_to_ts, seat_limit, timezone FROM entitlements ORDER BY instance, valid_from_ts"
    ).fetchall()
    total = con.execute("SELECT count(*) FROM sessions WHERE counted AND end_ts > start_ts").fetchone()[0]
    by_instance: dict[str, list] = defaultdict(list)
    for inst, s, e, k in sessions:
        by_instance[inst].append((s, e, k))
    limits: dict[str, list] = defaultdict(list)
    zones: dict[str, str] = {}
    for inst, vf, vt, lim, tz in ents:
        limits[inst].append((vf, vt, lim))
        zones[inst] = tz
    return by_instance, limits, zones, len(sessions), total


def day_edges(first: datetime, last: datetime, tz: str) -> list[datetime]:
    z = ZoneInfo(tz)
    d = first.astimezone(z).date()
    end = last.astimezone(z).date() + timedelta(days=1)
    edges = []
    while d <= end:
        edges.append(datetime(d.year, d.month, d.day, tzinfo=z).astimezone(timezone.utc))
        d += timedelta(days=1)
    return edges


def plain_sweep(by_instance, limits, zones) -> dict:
    """Daily peaks and seconds over the limit, by loops over sorted change points."""
    out = {}
    for inst, segs in by_instance.items():
        changes: dict[datetime, int] = defaultdict(int)
        for s, e, k in segs:
            changes[s] += k
            changes[e] -= k
        for vf, vt, _ in limits.get(inst, []):
            changes[vf] += 0
            if vt is not None:
                changes[vt] += 0
        instants = sorted(changes)
        edges = day_edges(instants[0], instants[-1], zones.get(inst, "UTC"))
        ent = limits.get(inst, [])
        starts = [vf for vf, _, _ in ent]
        peaks = [0] * len(edges)
        over = [0.0] * len(edges)
        level = 0
        for a, b in zip(instants, instants[1:]):
            level += changes[a]
            if level <= 0:
                continue
            i = bisect.bisect_right(starts, a) - 1
            limit = ent[i][2] if i >= 0 and (ent[i][1] is None or a < ent[i][1]) else None
            day = bisect.bisect_right(edges, a) - 1
            while day < len(edges) - 1 and edges[day] < b:
                lo, hi = max(a, edges[day]), min(b, edges[day + 1])
                peaks[day] = max(peaks[day], level)
                if limit is not None and level > limit:
                    over[day] += (hi - lo).total_seconds()
                day += 1
        out[inst] = (peaks, over)
    return out


def staircase_sweep(by_instance, limits, zones) -> dict:
    """The same with staircase: one step function per instance, sliced by local day."""
    import pandas as pd
    import staircase as sc

    out = {}
    for inst, segs in by_instance.items():
        starts = pd.DatetimeIndex([s for s, _, _ in segs]).tz_convert(None)
        ends = pd.DatetimeIndex([e for _, e, _ in segs]).tz_convert(None)
        stairs = sc.Stairs(start=starts, end=ends, value=[k for _, _, k in segs])
        ent = limits.get(inst, [])
        edges = pd.DatetimeIndex(day_edges(min(s for s, _, _ in segs), max(e for _, e, _ in segs), zones.get(inst, "UTC"))).tz_convert(None)
        peaks = stairs.slice(edges).max()
        if ent:
            limit = sc.Stairs(
                start=pd.DatetimeIndex([vf for vf, _, _ in ent]).tz_convert(None),
                end=pd.DatetimeIndex([vt if vt is not None else pd.Timestamp.max.tz_localize("UTC") for _, vt, _ in ent]).tz_convert(None),
                value=[lim for _, _, lim in ent],
            )
            over = (stairs > limit).slice(edges).integral()
        else:
            over = None
        out[inst] = (peaks, over)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--subset", type=int, default=300, help="instances for the plain sweep and staircase")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/auditor-bench-audit"))
    parser.add_argument("--floor-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--instrumented-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        return floor(args.floor_child)
    if args.instrumented_child:
        return instrumented(args.instrumented_child)

    ents, wh = prepare(args.work, args.instances, args.days, args.seed)
    me = [sys.executable, __file__]
    print(f"load before: {load()}", flush=True)
    floors, audits, rss = [], [], []
    for _ in range(args.repeat):
        _, floor_rss, out = run_measured(me + ["--floor-child", str(wh)])
        floors.append(json.loads(out)["floor_s"])
        wall, peak, _ = run_measured([exe(), "audit", "-q", "-w", str(wh), "--entitlements", str(ents)])
        audits.append(wall)
        rss.append(peak)
    _, _, out = run_measured(me + ["--instrumented-child", str(wh)])
    inst = json.loads(out)
    sweep_part = sum(inst["steps"].get(s, 0.0) for s in SWEEP_STEPS)

    from auditor.warehouse import Warehouse

    counts = Warehouse.open(wh).connect().execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM sessions), (SELECT count(*) FROM usage_steps), "
        "(SELECT count(*) FROM breaches), (SELECT count(*) FROM daily_usage)"
    ).fetchone()
    by_instance, limits, zones, subset_sessions, total_sessions = subset_inputs(wh, args.subset)
    scale = total_sessions / max(subset_sessions, 1)
    t = time.perf_counter()
    plain_sweep(by_instance, limits, zones)
    plain = (time.perf_counter() - t) * scale
    t = time.perf_counter()
    staircase_sweep(by_instance, limits, zones)
    stairs = (time.perf_counter() - t) * scale

    floor_s, audit_s = statistics.median(floors), statistics.median(audits)
    print(f"data: {args.instances:,} instances x {args.days} days; {counts[0]:,} events -> {counts[1]:,} session segments, "
          f"{counts[2]:,} usage steps, {counts[3]:,} breaches, {counts[4]:,} instance-days")
    print(f"{'measure':58s} {'seconds':>9s}  note")
    print(f"{'(a) floor: read + sort the event columns once':58s} {floor_s:9.2f}")
    print(f"{'auditor audit (warehouse -> all tables), median':58s} {audit_s:9.2f}  {audit_s / floor_s:.2f}x floor (target <= 3x)")
    print(f"{'    its sweep part (sessions -> steps, breaches, daily)':58s} {sweep_part:9.2f}  instrumented run, total {inst['total_s']:.2f}")
    print(f"{'(b) plain Python sweep, scaled from ' + str(len(by_instance)) + ' instances':58s} {plain:9.2f}  "
          f"sweep part {plain / sweep_part:.1f}x faster, whole audit {plain / audit_s:.1f}x (target >= 20x)")
    print(f"{'(c) staircase, same work, scaled likewise':58s} {stairs:9.2f}  sweep part is {stairs / sweep_part:.1f}x faster (target > 1x)")
    print(f"peak RSS of auditor audit: {max(rss):.2f} GB (target < 4 GB); scale factor {scale:.1f}; load after: {load()}")
    top = sorted(inst["steps"].items(), key=lambda kv: -kv[1])[:8]
    print("slowest statements (instrumented run): " + ", ".join(f"{k.removeprefix('audit_')} {v:.1f}s" for k, v in top))


if __name__ == "__main__":
    main()
