-- audit_day_inputs_recent: what an incremental audit's days are computed from: the sessions
-- it recomputed, and the kept ones (they end before the restart point q) that overlap the
-- restart day, which it recomputes whole (from its local midnight d0).
-- Reads: a_sessions, a_restart_points, a_instances. Parameters: $files (sessions partitions
-- that may hold segments overlapping a restart day).
CREATE OR REPLACE TEMP TABLE a_day_sessions AS
SELECT ikey, counted, start_ts, end_ts, "user", device FROM a_sessions
UNION ALL
SELECT i.ikey, s.counted, s.start_ts, s.end_ts, s."user", s.device
FROM read_parquet($files, hive_partitioning = false) AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.start_ts < q.q AND s.end_ts > q.d0
JOIN a_instances AS i ON i.instance = s.instance
