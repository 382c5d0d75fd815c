-- write_partition: write the merged date partition (queries/ingest/merge_partition.sql) as the
-- partition's new file, rows sorted by instance, ts, session_id. (A date merged without that statement
-- is sorted and written by pyarrow instead: auditor/ingest/staging.py, DayMerger.write_day.)
-- Parameters: $path VARCHAR — the new file.
COPY (
    SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason
    FROM ingest_merged
    ORDER BY instance, ts, session_id
) TO $path (FORMAT parquet, COMPRESSION zstd)
