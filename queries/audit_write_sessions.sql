-- audit_write_sessions: the sessions table as Parquet, one folder per UTC date of start_ts
-- (date=YYYY-MM-DD), so that an incremental run can replace recent partitions only.
-- Reads: a_sessions. Parameters: $dir (the folder to write under).
COPY (
    SELECT instance, session_id, segment, "user", user_type, device, app, auth_flow, seats, counted,
           start_ts, end_ts, end_reason, start_inferred,
           strftime(timezone('UTC', start_ts), '%Y-%m-%d') AS date
    FROM a_sessions
    ORDER BY instance, start_ts, session_id, segment
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))
