"""Where an incremental audit restarts each instance, and the history it reads from there.

For each instance with new events, a restart point q: an instant at or before its
earliest new event such that no stored segment starts before q and ends at or
after it (nothing is open at q and no seat is in use just before it, so no usage
step or breach runs across q), and before which no session's attributes change
(a new event that raises a session's seats or gives it an earlier first value
sends q back to that session's first event). Results before q are kept as stored;
from q on everything is recomputed with the same statements as a full audit.

A log segment that the absolute expiry ended exactly at q is spliced rather than covering q
(audit/covering): a service that never pauses restarts at its last stored segment's start,
not at its first event. The usage step and the breach running across such a q are joined to
the recomputed ones (audit/splice_steps, audit/breaches). Those, and any step or breach that
reaches the restart day, are read from wherever they start (audit/reaching_back).

A polled instance starts from the earliest instant its new lines speak of (a poll, a
listed session's start, an audit-log entry) less the login match window; a stored polled
session with no successful poll after it ('open') covers every later instant, since the
next poll, whenever it comes, ends it. Its polls are read back to the latest successful
one before q, so that the coverage gap running across q is recomputed whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa

from auditor.audit import engine
from auditor.audit.outputs import Cuts
from auditor.policy import Policy
from auditor.queries import run_query
from auditor.state import AuditRecord, Span
from auditor.tables import POLLS
from auditor.warehouse import Snapshot, register_files

#: The widest window an incremental audit reads back for covering segments (a century: wider
#: than any history, short of the calendar's end).
MAX_LOOKBACK = timedelta(days=36_500)
#: The tables the audit reads its input from.
INPUTS = ("events", "polls", "polled_sessions", "audit_log")
#: How far a restart day's local midnight may lie before the restart point, in UTC dates.
_DAY_MARGIN = timedelta(days=2)


def register_history(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, pending: Mapping[str, Span],
                     last: AuditRecord) -> Cuts:
    """Find every re-audited instance's restart point; register a_restart_points and the h_* views.

    The search reads stored segments back from the earliest new event by the longest
    segment stored, and further (doubling) while covered points move, so an instance
    that never pauses costs a few statements, not one per segment.
    """
    q = {name: span.first - last.policy.login_match for name, span in pending.items()}
    first = min(q.values())

    def read_back(table: str, name: str, by: timedelta, whole: frozenset[str] = frozenset()) -> None:
        # Every instance's rows from BY before the first new event; an instance whose restart
        # point moved earlier from BY before its own, alone; those WHOLE, all of theirs.
        back = {instance: date.min if instance in whole else (point - by).date() for instance, point in q.items()}
        snapshot.register_reaching(con, table, name, since=(first - by).date(), back=back)

    reach = timedelta(microseconds=last.max_segment_us) + _DAY_MARGIN
    _register_stored(con, snapshot, last)
    while True:
        _register_points(con, q)
        read_back("sessions", "h_sessions", reach)
        covered = run_query(con, "audit/covering").fetchall()
        if covered:
            for name, start in covered:
                q[name] = start
            reach = min(reach * 2, MAX_LOOKBACK)
            continue
        for table in INPUTS:
            read_back(table, f"h_{table}", _DAY_MARGIN)
        run_query(con, "audit/instance_zones")
        run_query(con, "audit/restart_points")
        run_query(con, "audit/events_in")
        engine.run_sessions(con, last.policy)
        changed = run_query(con, "audit/changed_sessions").fetchall()
        if not changed:
            break
        for name, first_ts in changed:
            q[name] = min(first_ts, q[name])
    earliest = min(q.values())
    _read_polls_back(con, snapshot, (earliest - _DAY_MARGIN).date(), last)
    # Stored rows the days and breaches of a restart day read (it is recomputed whole).
    reach_back = timedelta(microseconds=last.max_segment_us) + _DAY_MARGIN
    read_back("sessions", "h_sessions", max(reach_back, reach))
    read_back("usage_steps", "h_usage_steps", reach_back)
    read_back("breaches", "h_breaches", _DAY_MARGIN)
    # A usage step or breach reaching the restart day may have begun long before (segments back to back).
    engine.run_finding_from(con, last.policy)
    whole = frozenset(name for (name,) in run_query(con, "audit/reaching_back").fetchall())
    if whole:
        read_back("usage_steps", "h_usage_steps", reach_back, whole)
        read_back("breaches", "h_breaches", _DAY_MARGIN, whole)
    utc_date, local_day = con.execute(
        "SELECT min(CAST(timezone('UTC', q) AS DATE)), min(q_day) FROM a_restart_points WHERE NOT isinf(q)"
    ).fetchone()
    return Cuts(utc_date, local_day, (first - _DAY_MARGIN).date())


def register_nothing_kept(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, policy: Policy) -> None:
    """A full audit's history: every event, no stored result, no restart point (a_finding_from
    is then empty: the findings read every event)."""
    for table in INPUTS:
        snapshot.register(con, table, f"h_{table}")
    for table in ("sessions", "usage_steps", "breaches", "session_state", "daily_usage", "daily_levels",
                  "coverage_gaps", "daily_coverage", "findings", "instance_summary"):
        snapshot.register(con, table, f"h_{table}", nothing=True)
    snapshot.register(con, "sessions", "h_open_sessions", nothing=True)
    con.register("a_restart_from", _points({}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE a_restart_points (instance VARCHAR, q TIMESTAMPTZ, q_day DATE, d0 TIMESTAMPTZ)"
    )
    engine.run_finding_from(con, policy)


def _register_stored(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, last: AuditRecord) -> None:
    """The stored results an incremental audit reads whole: session states, days, summaries, open segments."""
    for table in ("session_state", "daily_usage", "daily_levels", "coverage_gaps", "daily_coverage", "findings",
                  "instance_summary"):
        snapshot.register(con, table, f"h_{table}")
    open_parts = snapshot.partitions("sessions")
    open_files = [open_parts[key] for key in last.open_partitions if key in open_parts]
    register_files(con, "sessions", "h_open_sessions", open_files)


def _read_polls_back(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, since: date, last: AuditRecord) -> None:
    """Read the polls back (doubling) until each re-audited polled instance's latest successful poll
    before its restart point is among them, or there are none older."""
    oldest = min((POLLS.partitioning.first_day(key) for key in snapshot.partitions("polls")), default=since)
    step = timedelta(days=2)
    while since > oldest and run_query(con, "audit/poll_reach").fetchall()[0][0]:
        since = max(since - step, oldest)
        step *= 2
        snapshot.register(con, "polls", "h_polls", since=since)
        # instances newly in view are kept whole: none may count as new
        run_query(con, "audit/restart_points")
        engine.select_polls(con, last.policy)


def _register_points(con: duckdb.DuckDBPyConnection, q: Mapping[str, datetime]) -> None:
    con.register("a_restart_from", _points(q))


def _points(q: Mapping[str, datetime]) -> pa.Table:
    names = sorted(q)
    return pa.table(
        {
            "instance": pa.array(names, pa.string()),
            "q": pa.array([q[n] for n in names], pa.timestamp("us", tz="UTC")),
        }
    )
