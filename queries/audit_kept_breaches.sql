-- audit_kept_breaches: the stored breaches rows an incremental audit keeps in the partitions it
-- rewrites: all but the re-audited instances' breaches from their restart point on.
-- Reads: a_restart_points. Parameters: $files (the partitions it rewrites).
CREATE OR REPLACE TEMP TABLE a_kept_breaches AS
SELECT t.*, strftime(timezone('UTC', t.breach_start), '%Y-%m-%d') AS part
FROM read_parquet($files, hive_partitioning = false) AS t
LEFT JOIN a_restart_points AS q ON q.instance = t.instance
WHERE q.instance IS NULL OR NOT (t.breach_start >= q.q)
