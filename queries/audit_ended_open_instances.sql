-- audit_ended_open_instances: the instances with a stored segment that was 'open' and whose
-- deadline the latest event time has now reached: audit_kept_sessions gives it its end
-- reason, so their sessions change although they may have no new events.
-- Reads: nothing but $files. Parameters: $files (the sessions partitions that hold open
-- segments), $max_ts (the latest event time in the warehouse).
SELECT DISTINCT instance
FROM read_parquet($files, hive_partitioning = false)
WHERE end_reason = 'open' AND end_ts <= CAST($max_ts AS TIMESTAMPTZ)
ORDER BY instance
