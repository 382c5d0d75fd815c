-- audit_write_breaches: the breaches table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_breaches,
-- empty for a full audit).
-- Reads: a_out_breaches, a_kept_breaches. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_breaches
        UNION ALL BY NAME
        SELECT * FROM a_kept_breaches
    )
    ORDER BY instance, breach_start
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
