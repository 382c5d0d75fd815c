-- audit_state_recent: the stored session state of every session with events in a_events_in,
-- with segments_before = its stored segments that start before the instance's restart point
-- (those an incremental audit keeps; its new segments are numbered after them).
-- Reads: a_events_in, a_restart_points.
-- Parameters: $state_files (all session_state partitions), $session_files (the sessions
-- partitions holding every segment that starts at or after a restart point).
CREATE OR REPLACE TEMP TABLE a_session_state_in AS
WITH wanted AS (
    SELECT DISTINCT instance, session_id
    FROM a_events_in
    WHERE event IN ('login', 'request', 'logout') AND session_id IS NOT NULL
),
stored AS (
    SELECT s.*
    FROM read_parquet($state_files, hive_partitioning = false) AS s
    SEMI JOIN wanted AS w ON w.instance = s.instance AND w.session_id = s.session_id
),
replaced AS (
    SELECT x.instance, x.session_id, count(*) AS n
    FROM read_parquet($session_files, hive_partitioning = false) AS x
    JOIN a_restart_points AS q ON q.instance = x.instance AND x.start_ts >= q.q
    GROUP BY x.instance, x.session_id
)
SELECT s.*, CAST(s.segments - coalesce(r.n, 0) AS INTEGER) AS segments_before
FROM stored AS s
LEFT JOIN replaced AS r USING (instance, session_id)
