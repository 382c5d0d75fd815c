-- audit_write_session_state: the session_state table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_session_state,
-- empty for a full audit).
-- Reads: a_out_session_state, a_kept_session_state. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_session_state
        UNION ALL BY NAME
        SELECT * FROM a_kept_session_state
    )
    ORDER BY instance, session_id
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
