-- audit_kept_instance_summary: the stored instance_summary rows an incremental audit keeps in the partitions it
-- rewrites: all but the re-audited instances' rows.
-- Reads: a_restart_points. Parameters: $files (the partitions it rewrites).
CREATE OR REPLACE TEMP TABLE a_kept_instance_summary AS
SELECT t.*, 'all' AS part
FROM read_parquet($files, hive_partitioning = false) AS t
LEFT JOIN a_restart_points AS q ON q.instance = t.instance
WHERE q.instance IS NULL OR NOT (true)
