"""The engine: the audit's statements in order, on one configured DuckDB connection.

The statements (``queries/audit/``) read the history the runner registered (``h_*``
views of stored partitions, and ``a_restart_points``) and leave temp tables and views
named ``a_*``. One order for every audit: a full audit is the incremental one with
no restart point and no stored result to read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from auditor.entitlements import Entitlement, to_arrow
from auditor.errors import UsageError
from auditor.policy import Policy
from auditor.queries import run_query

#: From the events to the session attributes (also run while an incremental audit looks for
#: its restart points: a new event may change an older session's attributes).
SESSION_STEPS = ("audit/instance_zones", "audit/instances", "audit/entitlements", "audit/restarts",
                 "audit/session_state_in", "audit/session_attributes")
#: Segments (around the pointer chase of the absolute expiry, in Python), then the sweep.
SEGMENT_STEPS = ("audit/activity", "audit/expiry_points")
#: The polled sessions join the segments before the sweep.
SWEEP_STEPS = ("audit/chain_starts", "audit/segments", "audit/ok_polls", "audit/polled_seen", "audit/polled_sessions",
               "audit/usage_steps", "audit/splice_steps", "audit/breaches")
#: The local days and the rows the audit gives for each table.
DAY_STEPS = (
    "audit/relabeled_sessions", "audit/day_sessions", "audit/day_steps", "audit/day_breaches",
    "audit/denial_events", "audit/denials", "audit/day_floor", "audit/days", "audit/piece_days", "audit/daily_usage",
    "audit/daily_levels", "audit/out_sessions", "audit/out_usage_steps", "audit/out_breaches",
    "audit/out_daily_usage", "audit/out_daily_levels", "audit/out_session_state", "audit/coverage_gaps",
    "audit/out_coverage_gaps", "audit/daily_coverage", "audit/out_daily_coverage",
)
#: The licence-term findings, from the segments, events, polls and usage steps of the days recomputed.
FINDING_STEPS = ("audit/finding_text", "audit/finding_inputs", "audit/findings_shared",
                 "audit/findings_parallel", "audit/findings_cycling", "audit/out_findings")
#: The verdict on the audited period per instance: its inputs (v_*), the verdict, instance_summary's rows.
SUMMARY_STEPS = ("audit/period_days", "audit/summary_periods", "audit/summary_daily", "audit/summary_levels",
                 "audit/summary_entitlements", "audit/summary_coverage", "audit/summary_findings", "audit/verdict",
                 "audit/out_instance_summary")
DEFAULT_MEMORY_LIMIT = "3000MB"
#: Names another limit for DuckDB's memory in the audit (beyond it DuckDB spills to disk).
MEMORY_LIMIT_ENV = "AUDITOR_MEMORY_LIMIT"


@contextlib.contextmanager
def connection(scratch: Path, entitlements: list[Entitlement], policy: Policy) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection configured for the audit, with the entitlements and the policy registered."""
    con = duckdb.connect()
    try:
        # Day boundaries and casts of TIMESTAMPTZ follow this setting; fix it.
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        # Temp tables of a large audit may not fit in memory: DuckDB spills into the run's
        # scratch folder, which the warehouse's next writer empties.
        con.execute("SET temp_directory = $dir", {"dir": str(scratch / "spill")})
        # DuckDB would take 80% of the machine; a bounded limit makes it spill instead.
        limit = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
        try:
            con.execute("SET memory_limit = $limit", {"limit": limit})
        except duckdb.Error as exc:
            raise UsageError(f"{MEMORY_LIMIT_ENV}={limit} is not a memory size (e.g. 3GB or 8000MB): {exc}") from exc
        con.execute("SET preserve_insertion_order = false")
        con.register("a_entitlements_in", to_arrow(entitlements))
        con.register(
            "a_policy_expiry",
            pa.table(
                {
                    "auth_flow": pa.array(list(policy.absolute_expiry), pa.string()),
                    "expiry_us": pa.array([microseconds(v) for v in policy.absolute_expiry.values()], pa.int64()),
                }
            ),
        )
        yield con
    finally:
        con.close()


def run_sessions(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """From a_events_in (and the polls) to a_sattr: the instances audited and their sessions' attributes."""
    select_polls(con, policy)
    for name in SESSION_STEPS:
        run_query(con, name)


def select_polls(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """The a_*_in views of the polls, listed sessions and audit-log entries the audit works from."""
    run_query(con, "audit/poll_from", {"match_us": microseconds(policy.login_match),
                                       "poll_interval_us": microseconds(policy.poll_interval)})
    run_query(con, "audit/polls_in")


def run_finding_from(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """a_finding_from, once the restart points are final: the findings read from it, and an
    incremental audit's search for stored rows reaching back (audit/reaching_back) before them."""
    run_query(con, "audit/finding_from", {"gap_us": microseconds(policy.cycling_gap)})


def run_rest(con: duckdb.DuckDBPyConnection, policy: Policy, max_ts: datetime) -> None:
    """From a_sattr to the a_out_* views: segments, the sweep, the days."""
    idle_us = microseconds(policy.idle_timeout)
    params = {
        "audit/activity": {"idle_us": idle_us},
        "audit/segments": {"idle_us": idle_us, "uncounted": sorted(policy.uncounted_user_types), "max_ts": max_ts},
        "audit/relabeled_sessions": {"idle_us": idle_us, "max_ts": max_ts},
        "audit/polled_sessions": {"idle_us": idle_us, "match_us": microseconds(policy.login_match)},
        "audit/ok_polls": {"poll_interval_us": microseconds(policy.poll_interval)},
        "audit/daily_coverage": {"poll_interval_us": microseconds(policy.poll_interval)},
        "audit/findings_shared": {"uncounted": sorted(policy.uncounted_user_types)},
        "audit/findings_parallel": {"min_requests": policy.parallel_min_requests, "min_polls": policy.parallel_min_polls},
        "audit/findings_cycling": {"gap_us": microseconds(policy.cycling_gap), "min_cycles": policy.cycling_min_cycles},
    }
    for name in SEGMENT_STEPS:
        run_query(con, name, params.get(name))
    con.register("a_chain_marks", pa.table({"n": pa.array(follow_expiry_chains(con), pa.int64())}))
    for name in SWEEP_STEPS + DAY_STEPS + FINDING_STEPS:
        run_query(con, name, params.get(name))


def run_summary(con: duckdb.DuckDBPyConnection, period_from: object, period_to: object, tolerance: timedelta) -> None:
    """instance_summary's rows for the audited period."""
    params = {
        "audit/summary_periods": {"period_from": period_from, "period_to": period_to},
        "audit/verdict": {"tolerance_us": microseconds(tolerance)},
    }
    for name in SUMMARY_STEPS:
        run_query(con, name, params.get(name))


def follow_expiry_chains(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """The instants at which the absolute expiry opens segments, by pointer chasing.

    Each island's first instant opens a segment; the next one opens at the first
    instant at or after (its start + expiry), and so on. The chase is sequential
    per island but all islands step together, so the loop runs as many times as
    the longest island has segments.
    """
    got = run_query(con, "audit/expiry_pointers").fetchnumpy()
    nxt = np.asarray(got["next_n"], dtype=np.int64)
    first = np.asarray(got["first_in_island"], dtype=bool)
    marked = np.zeros(len(nxt), dtype=bool)
    frontier = np.flatnonzero(first)
    while frontier.size:
        marked[frontier] = True
        frontier = nxt[frontier]
        frontier = frontier[frontier >= 0]
    return np.flatnonzero(marked)


def microseconds(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
