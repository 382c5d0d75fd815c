-- session_state_in: the stored state (rule 3's attributes and their keys) of every session with
-- events in a_events_in, with segments_before = its stored segments that start before its
-- instance's restart point (those the audit keeps; new segments are numbered after them).
-- Empty for a full audit (it reads no stored state). EXISTS, not a join with the distinct
-- sessions of a_events_in: with no stored state DuckDB then never scans the events.
-- Reads: h_session_state, h_sessions, a_events_in, a_restart_points. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_session_state_in AS
WITH stored AS (
    SELECT s.*
    FROM h_session_state AS s
    WHERE EXISTS (
        SELECT 1 FROM a_events_in AS e
        WHERE e.instance = s.instance AND e.session_id = s.session_id AND e.event IN ('login', 'request', 'logout')
    )
),
replaced AS (
    SELECT x.instance, x.session_id, count(*) AS n
    FROM h_sessions AS x
    JOIN a_restart_points AS q ON q.instance = x.instance AND x.start_ts >= q.q
    GROUP BY x.instance, x.session_id
)
SELECT s.*, CAST(s.segments - coalesce(r.n, 0) AS INTEGER) AS segments_before
FROM stored AS s
LEFT JOIN replaced AS r USING (instance, session_id)
