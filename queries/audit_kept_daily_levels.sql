-- audit_kept_daily_levels: the stored daily_levels rows an incremental audit keeps in the partitions it
-- rewrites: all but the re-audited instances' days from their restart day on.
-- Reads: a_restart_points. Parameters: $files (the partitions it rewrites).
CREATE OR REPLACE TEMP TABLE a_kept_daily_levels AS
SELECT t.*, strftime(t.day, '%Y-%m-%d') AS part
FROM read_parquet($files, hive_partitioning = false) AS t
LEFT JOIN a_restart_points AS q ON q.instance = t.instance
WHERE q.instance IS NULL OR NOT (t.day >= q.q_day)
