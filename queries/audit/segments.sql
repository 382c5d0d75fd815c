-- segments: every session segment with its end and end_reason (rules 1, 2 and 5).
-- Sessions without an absolute expiry: a segment is an island, from its opening activity
-- to its closing one (the boundary rows of a_act, paired in seq order). Sessions with
-- one: islands split at the expiry-chain starts (a_chain_starts), grouped on that subset.
-- A segment ends at the first of: the logout right after its last activity, its idle
-- deadline (last activity + idle timeout), its absolute expiry (start + expiry) and the
-- instance's first restart strictly after it opened; equal deadlines are named in that
-- order. A deadline beyond the latest event time in the warehouse is 'open'. A log's segment ends
-- exactly: its earliest possible end (end_ts_min) is its end. Polled sessions join later (polled_sessions).
-- Windows are partitioned by session (a segment never leaves its session; DuckDB evaluates a
-- global ORDER BY window on one thread). Segments are numbered before they meet their
-- session's attributes: a window sorts every column it carries.
-- Reads: a_act, a_expiry_points, a_chain_starts, a_restarts, a_sattr, a_instances.
-- Parameters: $idle_us, $uncounted (user types that never count), $max_ts (the latest
-- event time in the warehouse).
CREATE OR REPLACE TEMP TABLE a_sessions AS
WITH bounds AS (
    SELECT seq, skey, ts, ord, opens, closes, logout_after,
           lead(ts) OVER by_session AS next_ts,
           lead(logout_after) OVER by_session AS next_logout
    FROM a_act
    WHERE expiry_us IS NULL AND (opens OR closes)
    WINDOW by_session AS (PARTITION BY skey ORDER BY seq)
),
plain AS (
    -- an opening row is followed by its closing row (or closes itself)
    SELECT skey, ts AS start_ts,
           CASE WHEN closes THEN ts ELSE next_ts END AS last_ts,
           ord = 1 AS start_inferred,
           CASE WHEN closes THEN logout_after ELSE next_logout END AS logout_ts
    FROM bounds
    WHERE opens
),
expiring AS (
    SELECT a.seq, a.skey, a.ts, a.ord, a.logout_after,
           a.opens OR (c.seq IS NOT NULL) AS seg_start
    FROM a_act AS a
    LEFT JOIN a_chain_starts AS c ON c.seq = a.seq
    WHERE a.expiry_us IS NOT NULL
),
expiring_numbered AS (
    SELECT *, sum(CAST(seg_start AS INTEGER)) OVER (PARTITION BY skey ORDER BY seq ROWS UNBOUNDED PRECEDING) AS seg_id
    FROM expiring
),
chained AS (
    SELECT skey, min(ts) AS start_ts, max(ts) AS last_ts,
           arg_min(ord, seq) = 1 AS start_inferred,
           max(logout_after) AS logout_ts
    FROM expiring_numbered
    GROUP BY skey, seg_id
),
seg AS (
    SELECT *, row_number() OVER (PARTITION BY skey ORDER BY start_ts) AS n
    FROM (SELECT * FROM plain
          UNION ALL
          SELECT * FROM chained)
),
deadlines AS (
    SELECT s.*, a.ikey, a.instance, a.session_id, a."user", a.user_type, a.device, a.app, a.auth_flow, a.seats,
           a.segments_before,
           s.last_ts + to_microseconds(CAST($idle_us AS BIGINT)) AS idle_end,
           s.start_ts + to_microseconds(a.expiry_us) AS expiry_end,
           (SELECT min(r.ts) FROM a_restarts AS r WHERE r.ikey = a.ikey AND r.ts > s.start_ts) AS restart_end
    FROM seg AS s
    JOIN a_sattr AS a USING (skey)
),
ended AS (
    SELECT *, least(idle_end, expiry_end, restart_end) AS deadline
    FROM deadlines
)
SELECT *, end_ts AS end_ts_min, 'log' AS source,
       CASE WHEN NOT counted THEN 'user type ' || coalesce(user_type, '') END AS uncounted_reason
FROM (
SELECT ikey, instance, session_id,
       CAST(segments_before + n AS INTEGER) AS segment,
       "user", user_type, device, app, auth_flow, seats,
       NOT list_contains(CAST($uncounted AS VARCHAR[]), coalesce(user_type, '')) AS counted,
       start_ts,
       CASE WHEN logout_ts < deadline THEN logout_ts ELSE deadline END AS end_ts,
       CASE WHEN logout_ts < deadline THEN 'logout'
            WHEN deadline > CAST($max_ts AS TIMESTAMPTZ) THEN 'open'
            WHEN deadline = idle_end THEN 'idle_timeout'
            WHEN deadline = expiry_end THEN 'absolute_expiry'
            ELSE 'restart' END AS end_reason,
       start_inferred,
       last_ts AS last_activity_ts,
       skey
FROM ended
)
