-- audit_kept_sessions: the stored sessions rows an incremental audit keeps in the partitions it
-- rewrites: all but the re-audited instances' segments from their restart point on; an
-- 'open' end whose deadline the latest event time has now reached gets its reason (an open
-- segment ends at its deadline: idle unless it is the absolute expiry; a restart is an
-- event, so never beyond the latest one).
-- Reads: a_restart_points. Parameters: $files (the partitions it rewrites), $max_ts, $idle_us.
CREATE OR REPLACE TEMP TABLE a_kept_sessions AS
SELECT t.* REPLACE (
           CASE WHEN t.end_reason = 'open' AND t.end_ts <= CAST($max_ts AS TIMESTAMPTZ)
                THEN CASE WHEN t.end_ts = t.last_activity_ts + to_microseconds(CAST($idle_us AS BIGINT))
                          THEN 'idle_timeout' ELSE 'absolute_expiry' END
                ELSE t.end_reason END AS end_reason),
       strftime(timezone('UTC', t.start_ts), '%Y-%m-%d') AS part
FROM read_parquet($files, hive_partitioning = false) AS t
LEFT JOIN a_restart_points AS q ON q.instance = t.instance
WHERE q.instance IS NULL OR NOT (t.start_ts >= q.q)
