-- audit_write_instance_summary: the instance_summary table's partitions this audit (re)writes, as Parquet, one folder
-- per partition (part=...): the rows it computed and the stored rows it keeps (a_kept_instance_summary,
-- empty for a full audit).
-- Reads: a_out_instance_summary, a_kept_instance_summary. Parameters: $dir (the folder to write under).
COPY (
    SELECT * FROM (
        SELECT * FROM a_out_instance_summary
        UNION ALL BY NAME
        SELECT * FROM a_kept_instance_summary
    )
    ORDER BY instance
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
