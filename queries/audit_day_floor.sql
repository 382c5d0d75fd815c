-- audit_day_floor: per re-audited instance, the day after the last stored daily_usage day
-- before its restart day: days from there on are (re)computed, so that the gap days between
-- old and new activity get their rows as in a full audit.
-- Reads: a_restart_points. Parameters: $files (all daily_usage partitions).
CREATE OR REPLACE TEMP TABLE a_day_floor AS
SELECT d.instance, max(d.day) + 1 AS first_day
FROM read_parquet($files, hive_partitioning = false) AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
GROUP BY d.instance
