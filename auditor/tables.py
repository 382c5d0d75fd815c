"""The warehouse's tables, each declared once: columns, partitioning, order and key.

Everything that reads or writes a table's files works from its declaration here:
the warehouse's views (which exist, empty but typed, before the first run that
fills a table), the partition keys ingest, the audit and the nightly runs write
and parse, and the statements the audit derives to keep, replace and write its
output partitions (auditor/audit/outputs.py). Add a table by declaring it here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

#: Accepted connection-log events, one row per distinct normalised event.
_EVENTS = pa.schema(
    [
        pa.field("ts", UTC_TS, nullable=False),
        pa.field("instance", pa.string(), nullable=False),
        pa.field("event", pa.string(), nullable=False),
        pa.field("session_id", pa.string()),
        pa.field("seats", pa.int32(), nullable=False),
        pa.field("user", pa.string()),
        pa.field("user_type", pa.string()),
        pa.field("device", pa.string()),
        pa.field("app", pa.string()),
        pa.field("auth_flow", pa.string()),
        pa.field("reason", pa.string()),
    ]
)

#: Lines that ingest set aside, with where they came from and why.
_REJECTS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("file", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),
    ]
)

#: One row per input file per ingest run: read = accepted + duplicates + rejected. A log file
#: (or directory) found in a named directory that could not be read has a row whose ``skipped``
#: says why, with its counts 0 and what could not be known (hash, size; format of a directory) NULL.
_INGEST_LOG = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("started_at", UTC_TS, nullable=False),
        pa.field("finished_at", UTC_TS, nullable=False),
        pa.field("file", pa.string(), nullable=False),
        pa.field("file_sha256", pa.string()),
        pa.field("file_bytes", pa.int64()),
        pa.field("format", pa.string()),
        pa.field("compression", pa.string()),
        pa.field("read", pa.int64(), nullable=False),
        pa.field("accepted", pa.int64(), nullable=False),
        pa.field("duplicates", pa.int64(), nullable=False),
        pa.field("rejected", pa.int64(), nullable=False),
        pa.field("unknown_fields", pa.list_(pa.string())),
        pa.field("skipped", pa.string()),
    ]
)

#: One row per poll of an instance's live-sessions view (one line of a snapshot file): when, whether it
#: succeeded (a failed poll tells nothing about sessions), how many sessions it listed, and the
#: collector's own user and application (its session is never counted).
_POLLS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("polled_at", UTC_TS, nullable=False),
        pa.field("ok", pa.bool_(), nullable=False),
        pa.field("error", pa.string()),
        # sessions listed (NULL for a failed poll)
        pa.field("listed", pa.int32()),
        pa.field("collector_user", pa.string()),
        pa.field("collector_application", pa.string()),
        # the view polled: Systems_Monitoring_CurrentSessions, or its name before 24.1.5.35
        pa.field("entity_set", pa.string(), nullable=False),
    ]
)

#: One row per session a successful poll listed, with the view's attributes (ERP.net's names in snake case).
_POLLED_SESSIONS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("polled_at", UTC_TS, nullable=False),
        # NULL on servers before 26.1.4.3: the session is then known by user, start, device and applications
        pa.field("session_id", pa.string()),
        pa.field("user", pa.string()),
        pa.field("start_time", UTC_TS, nullable=False),
        pa.field("last_request_time", UTC_TS),
        # set only for sessions of service applications
        pa.field("absolute_expiration_time", UTC_TS),
        pa.field("applications", pa.string()),
        pa.field("device", pa.string()),
        pa.field("current_requests", pa.int32()),
        pa.field("total_requests", pa.int64()),
        pa.field("download_mb", pa.float64()),
        pa.field("upload_mb", pa.float64()),
    ]
)

#: One row per entry of an instance's audit log (authentication events), each once by its Id.
_AUDIT_LOG = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("event_time", UTC_TS, nullable=False),
        pa.field("event_class", pa.string()),
        # Login, LogOut, LoginFailed, ...
        pa.field("event_type", pa.string()),
        pa.field("application_name", pa.string()),
        pa.field("details", pa.string()),
        pa.field("user", pa.string()),
    ]
)

# --- the audit's tables (written by ``auditor audit``) ----------------------

#: The entitlements loaded from the compliance team's CSV, one row per validity range.
_ENTITLEMENTS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("customer", pa.string()),
        pa.field("plan", pa.string(), nullable=False),
        pa.field("extra_sessions", pa.int32(), nullable=False),
        pa.field("seat_limit", pa.int32(), nullable=False),
        pa.field("plan_maximum", pa.int32(), nullable=False),
        pa.field("valid_from", pa.date32(), nullable=False),
        pa.field("valid_to", pa.date32()),
        pa.field("timezone", pa.string(), nullable=False),
        pa.field("account_manager", pa.string()),
        pa.field("valid_from_ts", UTC_TS, nullable=False),
        pa.field("valid_to_ts", UTC_TS),
        pa.field("source_line", pa.int64()),
    ]
)

#: Every session segment, counted or not.
_SESSIONS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("session_id", pa.string(), nullable=False),
        pa.field("segment", pa.int32(), nullable=False),
        pa.field("user", pa.string()),
        pa.field("user_type", pa.string()),
        pa.field("device", pa.string()),
        pa.field("app", pa.string()),
        pa.field("auth_flow", pa.string()),
        pa.field("seats", pa.int32(), nullable=False),
        pa.field("counted", pa.bool_(), nullable=False),
        pa.field("start_ts", UTC_TS, nullable=False),
        pa.field("end_ts", UTC_TS, nullable=False),
        pa.field("end_reason", pa.string(), nullable=False),
        pa.field("start_inferred", pa.bool_(), nullable=False),
        # The segment's latest login or request: its idle deadline is 20 minutes on.
        # Lets an incremental audit relabel an `open` end once newer data arrives.
        pa.field("last_activity_ts", UTC_TS),
        # The earliest possible end: end_ts for a log's segment; for a polled session the last poll that listed it
        # (end_ts is then its latest possible end).
        pa.field("end_ts_min", UTC_TS, nullable=False),
        # log | poll
        pa.field("source", pa.string(), nullable=False),
        # why a session is not counted (NULL when it is): 'user type VIR', 'collector'
        pa.field("uncounted_reason", pa.string()),
    ]
)

#: Per session (instance, session_id), what rule 3 aggregates over all its events, with
#: the (time, event order) key of each first value - the state an incremental audit
#: merges new events into instead of re-reading the history. Internal to the audit.
_SESSION_STATE = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("session_id", pa.string(), nullable=False),
        pa.field("first_ts", UTC_TS, nullable=False),
        pa.field("seats", pa.int32(), nullable=False),
        pa.field("user", pa.string()),
        pa.field("user_key", pa.int64()),
        pa.field("user_type", pa.string()),
        pa.field("user_type_key", pa.int64()),
        pa.field("device", pa.string()),
        pa.field("device_key", pa.int64()),
        pa.field("app", pa.string()),
        pa.field("app_key", pa.int64()),
        pa.field("auth_flow", pa.string()),
        pa.field("auth_flow_key", pa.int64()),
        pa.field("segments", pa.int32(), nullable=False),
    ]
)

#: Per instance and local day, how long each number of seats was in use (microseconds):
#: instance_summary's p95 and recommended limit come from these, with no history scan.
_DAILY_LEVELS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("seats_in_use", pa.int64(), nullable=False),
        pa.field("in_use_us", pa.int64(), nullable=False),
    ]
)

#: The step function of concurrent counted seats: one row per maximal constant piece.
_USAGE_STEPS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("step_start", UTC_TS, nullable=False),
        pa.field("step_end", UTC_TS, nullable=False),
        # the upper bound (sessions to their latest possible end)
        pa.field("seats_in_use", pa.int64(), nullable=False),
        pa.field("seat_limit", pa.int32()),
        # the lower bound (sessions to their earliest possible end); equals seats_in_use for logs
        pa.field("seats_in_use_min", pa.int64(), nullable=False),
    ]
)

#: Maximal intervals in which seats_in_use > seat_limit.
_BREACHES = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("breach_start", UTC_TS, nullable=False),
        pa.field("breach_end", UTC_TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("peak_seats", pa.int64(), nullable=False),
        # The first instant of the breach at which peak_seats is reached: where
        # the report looks for "who was connected at the peak".
        pa.field("peak_at", UTC_TS, nullable=False),
        pa.field("seat_limit", pa.int32(), nullable=False),
        pa.field("max_excess", pa.int64(), nullable=False),
        # the lower bound too is over the limit somewhere in it (always for logs), and for how long
        pa.field("certain", pa.bool_(), nullable=False),
        pa.field("certain_seconds", pa.float64(), nullable=False),
    ]
)

#: One row per instance and local day.
_DAILY_USAGE = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("peak_seats", pa.int64(), nullable=False),
        pa.field("peak_at", UTC_TS),
        pa.field("seat_limit", pa.int32()),
        pa.field("seconds_over_limit", pa.float64(), nullable=False),
        pa.field("seconds_at_limit", pa.float64(), nullable=False),
        # time in use with no entitlement in force
        pa.field("seconds_unlicensed", pa.float64(), nullable=False),
        # breaches that start this day
        pa.field("breach_count", pa.int32(), nullable=False),
        # the day begins inside a breach that started before it: with breach_count, the
        # breaches overlapping any range of days
        pa.field("in_breach_at_start", pa.bool_(), nullable=False),
        pa.field("denials", pa.int32(), nullable=False),
        pa.field("sessions", pa.int32(), nullable=False),
        pa.field("distinct_users", pa.int32(), nullable=False),
        pa.field("distinct_devices", pa.int32(), nullable=False),
        # the lower bound's twins of peak_seats, seconds_over_limit, breach_count, in_breach_at_start
        pa.field("peak_seats_min", pa.int64(), nullable=False),
        pa.field("seconds_over_limit_min", pa.float64(), nullable=False),
        pa.field("certain_breach_count", pa.int32(), nullable=False),
        pa.field("in_certain_breach_at_start", pa.bool_(), nullable=False),
    ]
)

#: One row per instance: the verdict on the audited period (queries/audit/verdict.sql).
_INSTANCE_SUMMARY = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("customer", pa.string()),
        pa.field("plan", pa.string()),
        pa.field("timezone", pa.string(), nullable=False),
        pa.field("period_start", UTC_TS, nullable=False),
        pa.field("period_end", UTC_TS, nullable=False),
        pa.field("seat_limit", pa.int32()),
        pa.field("plan_maximum", pa.int32()),
        pa.field("peak_seats", pa.int64(), nullable=False),
        pa.field("peak_at", UTC_TS),
        pa.field("p95_seats", pa.int64(), nullable=False),
        pa.field("seconds_in_use", pa.float64(), nullable=False),
        pa.field("seconds_over_limit", pa.float64(), nullable=False),
        pa.field("seconds_unlicensed", pa.float64(), nullable=False),
        # the breaches overlapping the period
        pa.field("breach_count", pa.int32(), nullable=False),
        pa.field("denials", pa.int32(), nullable=False),
        # seats in use equalled the limit in force at some instant
        pa.field("limit_reached", pa.bool_(), nullable=False),
        # compliant | possible_breach | breach | beyond_plan_maximum | unlicensed
        pa.field("status", pa.string(), nullable=False),
        pa.field("recommended_seat_limit", pa.int64(), nullable=False),
        pa.field("recommended_extra_sessions", pa.int64()),
        pa.field("fits_plan_maximum", pa.bool_()),
        # the lower bound's peak and time over the limit, the certain breaches among breach_count
        pa.field("peak_seats_min", pa.int64(), nullable=False),
        pa.field("seconds_over_limit_min", pa.float64(), nullable=False),
        pa.field("certain_breach_count", pa.int32(), nullable=False),
        # the share of the period within the polling interval of a successful poll (1.0 for logs)
        pa.field("coverage", pa.float64(), nullable=False),
        # the licence-term findings of the period, and the peak had each been counted as the licence says
        # (the largest of peak_seats and the findings' peak_seats_implied)
        pa.field("findings", pa.int32(), nullable=False),
        pa.field("peak_seats_implied", pa.int64(), nullable=False),
    ]
)

#: Licence-term findings (queries/audit/findings_*.sql): one row per shared session segment, per polled
#: session and local day with parallel requests, per user, device and local day of logout cycling.
_FINDINGS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        # shared_session_devices | shared_session_users | parallel_requests | logout_cycling
        pa.field("kind", pa.string(), nullable=False),
        # empty when the finding is not about one session (cycling; polls of servers without SessionId)
        pa.field("session_id", pa.string(), nullable=False),
        pa.field("user", pa.string()),
        pa.field("first_seen", UTC_TS, nullable=False),
        pa.field("last_seen", UTC_TS, nullable=False),
        pa.field("occurrences", pa.int64(), nullable=False),
        # the sessions the licence would have counted for it at its worst moment
        pa.field("seats_implied", pa.int64(), nullable=False),
        # a short plain sentence: who, which devices, when (local time)
        pa.field("evidence", pa.string(), nullable=False),
        # the local day it belongs to (a shared segment's start, a poll's, a cycle's login)
        pa.field("day", pa.date32(), nullable=False),
        # the highest seats in use while it lasted, with the sessions the licence misses
        pa.field("peak_seats_implied", pa.int64(), nullable=False),
    ]
)

#: Per polled instance and local day, how long the polls observed: the time within the polling interval of a
#: successful poll. instance_summary's coverage sums these; log instances have none (their data is exact).
_DAILY_COVERAGE = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("covered_seconds", pa.float64(), nullable=False),
    ]
)

#: Stretches between two consecutive successful polls of an instance more than twice the polling interval apart.
_COVERAGE_GAPS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("gap_start", UTC_TS, nullable=False),
        pa.field("gap_end", UTC_TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
    ]
)

# --- the nightly batch's run records (written by ``auditor nightly``) ---------

#: One row per nightly run, failed ones included: what it read, what it changed, how long each stage took.
_NIGHTLY_RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("started_at", UTC_TS, nullable=False),
        pa.field("finished_at", UTC_TS, nullable=False),
        # ok | failed
        pa.field("status", pa.string(), nullable=False),
        pa.field("logs", pa.string(), nullable=False),
        # ingest | audit | report (the stage that failed), NULL when ok
        pa.field("failed_stage", pa.string()),
        pa.field("error", pa.string()),
        pa.field("reports_dir", pa.string()),
        # the ingest run (ingest_log.run_id, rejects.run_id) of this night, if any file was read
        pa.field("ingest_run_id", pa.string()),
        pa.field("files_seen", pa.int64(), nullable=False),
        pa.field("files_ingested", pa.int64(), nullable=False),
        pa.field("files_skipped", pa.int64(), nullable=False),
        pa.field("events_read", pa.int64(), nullable=False),
        pa.field("events_accepted", pa.int64(), nullable=False),
        pa.field("events_duplicates", pa.int64(), nullable=False),
        pa.field("events_rejected", pa.int64(), nullable=False),
        # incremental | full | none
        pa.field("audit_mode", pa.string(), nullable=False),
        pa.field("instances_touched", pa.list_(pa.string()), nullable=False),
        pa.field("new_breaches", pa.int64(), nullable=False),
        # licence-term findings new to the warehouse (NULL: a run recorded before findings existed)
        pa.field("new_findings", pa.int64()),
        pa.field("reports_rendered", pa.int64(), nullable=False),
        pa.field("ingest_s", pa.float64(), nullable=False),
        pa.field("audit_s", pa.float64(), nullable=False),
        pa.field("report_s", pa.float64(), nullable=False),
        pa.field("total_s", pa.float64(), nullable=False),
    ]
)


# --- partitioning --------------------------------------------------------------


@dataclass(frozen=True)
class Partitioning:
    """How a table's rows are split into files, one per key.

    ``kind`` is ``utc_date`` (``date=YYYY-MM-DD``, the UTC date of a timestamp column),
    ``day`` (``day=YYYY-MM-DD``, a DATE column), ``month`` (``month=YYYY-MM``, the UTC month
    of a timestamp column), ``run`` (``run=RUN_ID``) or ``whole`` (one file, key ``all``).
    """

    kind: str
    column: str | None = None

    @property
    def prefix(self) -> str:
        return {"utc_date": "date=", "day": "day=", "month": "month=", "run": "run=", "whole": ""}[self.kind]

    def key(self, value: date | datetime | str | None = None) -> str:
        """The key of the partition that holds a row whose partition column is VALUE."""
        if self.kind == "whole":
            return "all"
        if self.kind == "run":
            return f"run={value}"
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc)
            return f"month={value:%Y-%m}" if self.kind == "month" else f"date={value.date().isoformat()}"
        if isinstance(value, date):
            return f"{self.prefix}{value.isoformat()}"
        return f"{self.prefix}{value}"  # the bare value, as key_sql gives it

    def first_day(self, key: str) -> date | None:
        """The first (UTC or local) day a dated partition holds; None for ``run`` and ``whole``."""
        if self.kind in ("utc_date", "day"):
            return date.fromisoformat(key.removeprefix(self.prefix))
        if self.kind == "month":
            return date.fromisoformat(key.removeprefix(self.prefix) + "-01")
        return None

    def last_day(self, key: str) -> date | None:
        """The last (UTC or local) day a dated partition holds; None for ``run`` and ``whole``."""
        first = self.first_day(key)
        if first is None or self.kind != "month":
            return first
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return following - timedelta(days=1)

    def bare(self, key: str) -> str:
        """KEY without its prefix: the value ``key_sql`` gives for the partition's rows."""
        return key.removeprefix(self.prefix)

    def key_sql(self) -> str:
        """A SQL expression giving a row's bare key value (without the prefix) from its columns."""
        column = quote(self.column or "")
        if self.kind == "utc_date":
            return f"strftime(timezone('UTC', {column}), '%Y-%m-%d')"
        if self.kind == "day":
            return f"strftime({column}, '%Y-%m-%d')"
        if self.kind == "month":
            return f"strftime(timezone('UTC', {column}), '%Y-%m')"
        if self.kind == "run":
            return column
        return "'all'"


BY_RUN = Partitioning("run", "run_id")
WHOLE = Partitioning("whole")


def by_utc_date(column: str) -> Partitioning:
    return Partitioning("utc_date", column)


def by_day(column: str) -> Partitioning:
    return Partitioning("day", column)


# --- tables --------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One table: its columns, how its rows are split into files and sorted in each.

    ``key``: the columns that identify a row, so that a newly computed row replaces a
    stored one with the same values. ``restart``: for the audit's outputs, the column
    compared with each re-audited instance's restart point (a timestamp with the
    instant, a date with its local day): stored rows from there on are recomputed.
    """

    name: str
    schema: pa.Schema
    partitioning: Partitioning
    order: tuple[str, ...]
    key: tuple[str, ...] = ()
    restart: str | None = None
    description: str = field(default="", compare=False)

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def key_fixes_partition(self) -> bool:
        """Whether a row's key tells its partition (else a replaced row may lie in another partition)."""
        return self.partitioning.column is None or self.partitioning.column in self.key


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


EVENTS = Table("events", _EVENTS, by_utc_date("ts"), ("instance", "ts", "session_id"),
               description="accepted connection-log events")
REJECTS = Table("rejects", _REJECTS, BY_RUN, ("file", "line"), description="lines ingest set aside, per run")
INGEST_LOG = Table("ingest_log", _INGEST_LOG, BY_RUN, ("file",), description="one row per input file per ingest run")
POLLS = Table("polls", _POLLS, by_utc_date("polled_at"), ("instance", "polled_at"), key=("instance", "polled_at"),
              description="polls of each instance's live sessions (snapshot files)")
POLLED_SESSIONS = Table("polled_sessions", _POLLED_SESSIONS, by_utc_date("polled_at"),
                        ("instance", "polled_at", "session_id", "start_time"),
                        description="the sessions each successful poll listed")
AUDIT_LOG = Table("audit_log", _AUDIT_LOG, by_utc_date("event_time"), ("instance", "event_time", "id"),
                  key=("instance", "id"), description="authentication entries of each instance's audit log")
ENTITLEMENTS = Table("entitlements", _ENTITLEMENTS, WHOLE, ("instance", "valid_from_ts"),
                     description="the entitlements the audit loaded")
SESSIONS = Table("sessions", _SESSIONS, by_utc_date("start_ts"), ("instance", "start_ts", "session_id", "segment"),
                 key=("instance", "session_id", "segment", "start_ts"), restart="start_ts",
                 description="every session segment")
USAGE_STEPS = Table("usage_steps", _USAGE_STEPS, by_utc_date("step_start"), ("instance", "step_start"),
                    key=("instance", "step_start"), restart="step_start",
                    description="the step function of concurrent counted seats")
BREACHES = Table("breaches", _BREACHES, by_utc_date("breach_start"), ("instance", "breach_start"),
                 key=("instance", "breach_start"), restart="breach_start",
                 description="maximal intervals over the seat limit")
DAILY_USAGE = Table("daily_usage", _DAILY_USAGE, by_day("day"), ("instance", "day"),
                    key=("instance", "day"), restart="day", description="per instance and local day with use")
DAILY_LEVELS = Table("daily_levels", _DAILY_LEVELS, by_day("day"), ("instance", "day", "seats_in_use"),
                     key=("instance", "day", "seats_in_use"), restart="day",
                     description="time at each number of seats, per instance and local day")
SESSION_STATE = Table("session_state", _SESSION_STATE, by_utc_date("first_ts"), ("instance", "session_id"),
                      key=("instance", "session_id"), description="per session, what rule 3 aggregates")
INSTANCE_SUMMARY = Table("instance_summary", _INSTANCE_SUMMARY, WHOLE, ("instance",), key=("instance",),
                         description="per instance, the audited period's verdict")
COVERAGE_GAPS = Table("coverage_gaps", _COVERAGE_GAPS, WHOLE, ("instance", "gap_start"), key=("instance", "gap_start"),
                      restart="gap_end", description="stretches of a polled instance without a successful poll")
DAILY_COVERAGE = Table("daily_coverage", _DAILY_COVERAGE, by_day("day"), ("instance", "day"), key=("instance", "day"),
                       restart="day", description="per polled instance and local day, the time the polls observed")
FINDINGS = Table("findings", _FINDINGS, WHOLE, ("instance", "day", "kind", "first_seen", "session_id"),
                 restart="day", description="licence-term findings: shared sessions, parallel requests, logout cycling")
NIGHTLY_RUNS = Table("nightly_runs", _NIGHTLY_RUNS, Partitioning("month", "started_at"), ("started_at", "run_id"),
                     description="one row per nightly run")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (EVENTS, POLLS, POLLED_SESSIONS, AUDIT_LOG, REJECTS, INGEST_LOG, ENTITLEMENTS, SESSIONS, USAGE_STEPS, BREACHES, DAILY_USAGE,
              INSTANCE_SUMMARY, SESSION_STATE, DAILY_LEVELS, COVERAGE_GAPS, DAILY_COVERAGE, FINDINGS, NIGHTLY_RUNS)
}
#: The tables the audit replaces, in the order it writes them.
AUDIT_OUTPUTS: tuple[Table, ...] = (SESSIONS, USAGE_STEPS, BREACHES, DAILY_USAGE, DAILY_LEVELS, SESSION_STATE,
                                    COVERAGE_GAPS, DAILY_COVERAGE, FINDINGS, INSTANCE_SUMMARY)


def duckdb_type(dtype: pa.DataType) -> str:
    """The DuckDB type name an Arrow type reads back as from Parquet."""
    if pa.types.is_timestamp(dtype):
        return "TIMESTAMPTZ" if dtype.tz else "TIMESTAMP"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "VARCHAR"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return duckdb_type(dtype.value_type) + "[]"
    simple = {
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    if dtype in simple:
        return simple[dtype]
    raise TypeError(f"no DuckDB type for {dtype}")
