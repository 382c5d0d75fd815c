-- audit_write_sessions: the sessions table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_sessions,
-- empty for a full audit).
-- Reads: a_out_sessions, a_kept_sessions. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_sessions
        UNION ALL BY NAME
        SELECT * FROM a_kept_sessions
    )
    ORDER BY instance, start_ts, session_id, segment
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
