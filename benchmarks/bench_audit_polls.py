"""How much more the audit of polled data costs than the audit of the same sessions as event logs.

Generates a fleet with `auditor.generate` (default 2,000 instances x 7 days), ingests
and audits its event logs, then turns the sessions that audit found into what a
collector polling every 5 minutes would have recorded: per instance, a poll every
5 minutes (with a few seconds of jitter, 1% failed) listing every session alive at
that instant, and an audit-log Login entry per session. That warehouse is audited
too, and the run prints both audits' times (median of --repeat runs, child processes,
peak RSS) and their ratio (target: polled <= 1.5x logs).

    /work/venv/bin/python benchmarks/bench_audit_polls.py
    /work/venv/bin/python benchmarks/bench_audit_polls.py --instances 300 --repeat 1   # a quick look

Generated data and both warehouses are kept under --work and reused when the size and
seed are unchanged. Figures on a busy machine mean little: look at the load.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_audit import exe, prepare, run_child  # noqa: E402
from benchline import bench_line, load  # noqa: E402

POLL_EVERY_S = 300

#: From the log audit's sessions (positive length) to polls, listed sessions and logins: the
#: same sessions, observed the way issue 11's collector observes them.
POLLS_SQL = """
CREATE TEMP TABLE truth AS
SELECT instance, session_id, "user", device, app, start_ts, end_ts, last_activity_ts
FROM sessions WHERE end_ts > start_ts;

CREATE TEMP TABLE poll_times AS
WITH span AS (
    SELECT instance, min(start_ts) AS lo, max(end_ts) AS hi, hash(instance) % $every AS offset_s
    FROM truth GROUP BY instance
),
ticks AS (
    SELECT instance, unnest(generate_series(date_trunc('hour', lo) + to_seconds(offset_s), hi,
                                            to_seconds($every))) AS tick
    FROM span
)
SELECT instance, tick + to_milliseconds(hash(instance, tick) % 4000) AS polled_at,
       hash(tick, instance) % 100 <> 0 AS ok
FROM ticks;

CREATE TEMP TABLE listed AS
SELECT p.instance, p.polled_at, t.session_id, t."user", t.start_ts AS start_time,
       least(t.last_activity_ts, p.polled_at) AS last_request_time,
       CAST(NULL AS TIMESTAMPTZ) AS absolute_expiration_time, t.app AS applications, t.device,
       0 AS current_requests, 1 AS total_requests, 0.0 AS download_mb, 0.0 AS upload_mb
FROM poll_times AS p
JOIN truth AS t ON t.instance = p.instance AND t.start_ts <= p.polled_at AND p.polled_at < t.end_ts
WHERE p.ok;
"""


def build_polled(log_wh: Path, polled_wh: Path) -> dict[str, int]:
    """Write the polled warehouse from LOG_WH's sessions; returns the row counts."""
    from auditor.warehouse import Warehouse

    shutil.rmtree(polled_wh, ignore_errors=True)
    source = Warehouse.open(log_wh)
    con = source.connect()
    con.execute("SET TimeZone = 'UTC'")
    for statement in POLLS_SQL.split(";\n"):
        if statement.strip():
            con.execute(statement, {"every": POLL_EVERY_S} if "$every" in statement else {})
    target = Warehouse.open(polled_wh, create=True)
    queries = {
        "polls": ("SELECT instance, polled_at, ok, CASE WHEN NOT ok THEN 'HTTP 503' END AS error, "
                  "CAST(NULL AS INTEGER) AS listed, 'auditor-collector' AS collector_user, "
                  "'ERP.net auditor collector' AS collector_application, "
                  "'Systems_Monitoring_CurrentSessions' AS entity_set FROM poll_times", "polled_at"),
        "polled_sessions": ("SELECT * FROM listed", "polled_at"),
        "audit_log": ("SELECT instance, 'L' || session_id AS id, start_ts AS event_time, 'Authentication' AS event_class, "
                      "'Login' AS event_type, app AS application_name, NULL AS details, \"user\" FROM truth", "event_time"),
    }
    counts = {}
    with target.transaction() as tx:
        for table, (sql, column) in queries.items():
            dates = [d for (d,) in con.execute(f"SELECT DISTINCT CAST({column} AS DATE) FROM ({sql}) ORDER BY 1").fetchall()]
            for day in dates:
                part = con.execute(f"SELECT * FROM ({sql}) WHERE CAST({column} AS DATE) = $day ORDER BY instance, {column}",
                                   {"day": day}).to_arrow_table()
                tx.write(table, f"date={day.isoformat()}", part)
            (counts[table],) = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/auditor-bench-polls"))
    args = parser.parse_args()

    ents, log_wh = prepare(args.work, args.instances, args.days, args.seed)
    polled_wh = args.work / "polled"
    marker = args.work / "polled.json"
    audit = [exe(), "audit", "-q", "--entitlements", str(ents), "-w"]
    if not marker.is_file():
        run_child(audit + [str(log_wh)])
        marker.write_text(json.dumps(build_polled(log_wh, polled_wh)))
    counts = json.loads(marker.read_text())
    print(f"load before: {load()}", flush=True)
    logs, polls, rss_logs, rss_polls = [], [], [], []
    for _ in range(args.repeat):
        wall, rss, _ = run_child(audit + [str(log_wh)])
        logs.append(wall)
        rss_logs.append(rss)
        wall, rss, _ = run_child(audit + [str(polled_wh)])
        polls.append(wall)
        rss_polls.append(rss)
    from auditor.warehouse import Warehouse

    (events, sessions) = Warehouse.open(log_wh).connect().execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM sessions)").fetchone()
    (polled_sessions,) = Warehouse.open(polled_wh).connect().execute(
        "SELECT count(*) FROM sessions WHERE source = 'poll'").fetchone()
    log_s, poll_s = statistics.median(logs), statistics.median(polls)
    print(f"data: {args.instances:,} instances x {args.days} days; logs: {events:,} events -> {sessions:,} segments; "
          f"polls every {POLL_EVERY_S // 60} min: {counts['polls']:,} polls listing {counts['polled_sessions']:,} "
          f"session rows, {counts['audit_log']:,} audit-log logins -> {polled_sessions:,} polled sessions")
    print(f"{'measure':52s} {'seconds':>8s}  note")
    print(f"{'auditor audit of the event logs, median':52s} {log_s:8.2f}  peak RSS {max(rss_logs):.2f} GB")
    print(f"{'auditor audit of the polls, median':52s} {poll_s:8.2f}  peak RSS {max(rss_polls):.2f} GB; "
          f"{poll_s / log_s:.2f}x the logs' audit (target <= 1.5x)")
    print(f"all runs: logs {', '.join(f'{x:.2f}' for x in logs)}; polls {', '.join(f'{x:.2f}' for x in polls)}; "
          f"load after: {load()}")
    bench_line("audit_polls", f"audit of polls s vs of logs s, {args.instances:,} instances x {args.days} days "
               "(issue 11: <= 1.5x)", poll_s, log_s)


if __name__ == "__main__":
    main()
