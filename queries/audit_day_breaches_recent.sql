-- audit_day_breaches_recent: the breaches an incremental audit's days count: those it
-- recomputed and the kept ones that start on the restart day before the restart point.
-- Reads: a_breaches, a_restart_points, a_instances. Parameters: $files (breaches partitions
-- from the earliest restart day on).
CREATE OR REPLACE TEMP TABLE a_day_breaches AS
SELECT ikey, breach_start FROM a_breaches
UNION ALL
SELECT i.ikey, b.breach_start
FROM read_parquet($files, hive_partitioning = false) AS b
JOIN a_restart_points AS q ON q.instance = b.instance AND b.breach_start < q.q AND b.breach_start >= q.d0
JOIN a_instances AS i ON i.instance = b.instance
