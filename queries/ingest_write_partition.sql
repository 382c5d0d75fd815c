-- ingest_write_partition: write the merged date partition as the partition's new file.
-- Reads the Arrow table `ingest_sorted` that ingest registers: the rows of
-- queries/ingest_merge_partition.sql already sorted by instance, ts, session_id (pyarrow sorts them
-- in about half the CPU time an ORDER BY here takes), and keeps their order.
-- Parameters: $path VARCHAR — the new file.
COPY (
    SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason
    FROM ingest_sorted
) TO $path (FORMAT parquet, COMPRESSION zstd)
