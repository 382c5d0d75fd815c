-- audit_day_steps_recent: the usage steps an incremental audit's days are computed from:
-- those it recomputed and the kept ones (before the restart point q) overlapping the restart
-- day (from its local midnight d0).
-- Reads: a_steps, a_restart_points, a_instances. Parameters: $files (usage_steps partitions
-- that may hold such steps).
CREATE OR REPLACE TEMP TABLE a_day_steps AS
SELECT ikey, step_start, step_end, seats_in_use, seat_limit FROM a_steps
UNION ALL
SELECT i.ikey, s.step_start, s.step_end, s.seats_in_use, s.seat_limit
FROM read_parquet($files, hive_partitioning = false) AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.step_start < q.q AND s.step_end > q.d0
JOIN a_instances AS i ON i.instance = s.instance
