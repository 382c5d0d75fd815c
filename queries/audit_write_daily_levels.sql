-- audit_write_daily_levels: the daily_levels table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_daily_levels,
-- empty for a full audit).
-- Reads: a_out_daily_levels, a_kept_daily_levels. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_daily_levels
        UNION ALL BY NAME
        SELECT * FROM a_kept_daily_levels
    )
    ORDER BY instance, day, seats_in_use
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
