-- audit_write_usage_steps: the usage_steps table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_usage_steps,
-- empty for a full audit).
-- Reads: a_out_usage_steps, a_kept_usage_steps. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_usage_steps
        UNION ALL BY NAME
        SELECT * FROM a_kept_usage_steps
    )
    ORDER BY instance, step_start
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
