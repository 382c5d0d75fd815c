"""The warehouse's tables: their columns, as Arrow schemas.

Every table a command writes is declared here once, so that the views in
``auditor sql`` and ``WAREHOUSE/auditor.duckdb`` exist (empty, but typed)
before the first run that fills them.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

#: Accepted connection-log events, one row per distinct normalised event.
EVENTS = pa.schema(
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
REJECTS = pa.schema(
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
INGEST_LOG = pa.schema(
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

# --- the audit's tables (written by ``auditor audit``) ----------------------

#: The entitlements loaded from the compliance team's CSV, one row per validity range.
ENTITLEMENTS = pa.schema(
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
SESSIONS = pa.schema(
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
    ]
)

#: Per session (instance, session_id), what rule 3 aggregates over all its events, with
#: the (time, event order) key of each first value - the state an incremental audit
#: merges new events into instead of re-reading the history. Internal to the audit.
SESSION_STATE = pa.schema(
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
DAILY_LEVELS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("seats_in_use", pa.int64(), nullable=False),
        pa.field("in_use_us", pa.int64(), nullable=False),
    ]
)

#: The step function of concurrent counted seats: one row per maximal constant piece.
USAGE_STEPS = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("step_start", UTC_TS, nullable=False),
        pa.field("step_end", UTC_TS, nullable=False),
        pa.field("seats_in_use", pa.int64(), nullable=False),
        pa.field("seat_limit", pa.int32()),
    ]
)

#: Maximal intervals in which seats_in_use > seat_limit.
BREACHES = pa.schema(
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
    ]
)

#: One row per instance and local day.
DAILY_USAGE = pa.schema(
    [
        pa.field("instance", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("peak_seats", pa.int64(), nullable=False),
        pa.field("peak_at", UTC_TS),
        pa.field("seat_limit", pa.int32()),
        pa.field("seconds_over_limit", pa.float64(), nullable=False),
        pa.field("breach_count", pa.int32(), nullable=False),
        pa.field("denials", pa.int32(), nullable=False),
        pa.field("sessions", pa.int32(), nullable=False),
        pa.field("distinct_users", pa.int32(), nullable=False),
        pa.field("distinct_devices", pa.int32(), nullable=False),
    ]
)

#: One row per instance for the audited period.
INSTANCE_SUMMARY = pa.schema(
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
        pa.field("seconds_over_limit", pa.float64(), nullable=False),
        pa.field("breach_count", pa.int32(), nullable=False),
        pa.field("denials", pa.int32(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("recommended_seat_limit", pa.int64(), nullable=False),
        pa.field("recommended_extra_sessions", pa.int64()),
        pa.field("fits_plan_maximum", pa.bool_()),
    ]
)

# --- the nightly batch's run records (written by ``auditor nightly``) ---------

#: One row per nightly run, failed ones included: what it read, what it changed, how long each stage took.
NIGHTLY_RUNS = pa.schema(
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
        pa.field("reports_rendered", pa.int64(), nullable=False),
        pa.field("ingest_s", pa.float64(), nullable=False),
        pa.field("audit_s", pa.float64(), nullable=False),
        pa.field("report_s", pa.float64(), nullable=False),
        pa.field("total_s", pa.float64(), nullable=False),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "events": EVENTS,
    "rejects": REJECTS,
    "ingest_log": INGEST_LOG,
    "entitlements": ENTITLEMENTS,
    "sessions": SESSIONS,
    "usage_steps": USAGE_STEPS,
    "breaches": BREACHES,
    "daily_usage": DAILY_USAGE,
    "instance_summary": INSTANCE_SUMMARY,
    "session_state": SESSION_STATE,
    "daily_levels": DAILY_LEVELS,
    "nightly_runs": NIGHTLY_RUNS,
}


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
