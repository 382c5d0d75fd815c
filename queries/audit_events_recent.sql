-- audit_events_recent: the events an incremental audit works from: those of each
-- re-audited instance at or after its restart point (a_restart_points: instance, q),
-- read from the given event partitions only.
-- Reads: a_restart_points. Parameters: $files (the event partitions that may hold them).
CREATE OR REPLACE TEMP TABLE a_events_in AS
SELECT e.*
FROM read_parquet($files, hive_partitioning = false) AS e
JOIN a_restart_points AS q ON q.instance = e.instance AND e.ts >= q.q
