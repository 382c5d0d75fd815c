-- audit_denial_events_recent: the events an incremental audit counts refused logins in:
-- each re-audited instance's from the local midnight d0 of its restart day on (that day is
-- recomputed whole).
-- Reads: a_restart_points. Parameters: $files (event partitions from the earliest d0 on).
CREATE OR REPLACE TEMP TABLE a_denial_events_in AS
SELECT e.*
FROM read_parquet($files, hive_partitioning = false) AS e
JOIN a_restart_points AS q ON q.instance = e.instance AND e.ts >= q.d0
WHERE e.event = 'login_failed'
