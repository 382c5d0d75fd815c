-- audit_write_daily_usage: the daily_usage table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_daily_usage,
-- empty for a full audit).
-- Reads: a_out_daily_usage, a_kept_daily_usage. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_daily_usage
        UNION ALL BY NAME
        SELECT * FROM a_kept_daily_usage
    )
    ORDER BY instance, day
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
