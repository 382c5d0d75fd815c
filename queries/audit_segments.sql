-- audit_segments: every session segment with its end and end_reason (rules 1, 2 and 5).
-- A segment starts at an island start or at an expiry-chain start (a_chain_starts); it
-- ends at the first of: the logout that follows its last activity, its idle deadline
-- (last activity + idle timeout), its absolute expiry (start + expiry of its auth flow)
-- and the instance's first restart strictly after it opened. Equal deadlines are named in
-- that order. A deadline beyond the latest event time in the warehouse is 'open'.
-- Reads: a_act, a_chain_starts (island, ts), a_restarts, a_sattr, a_instances, events.
-- Parameters: $idle_us, $uncounted (user types that never count).
CREATE OR REPLACE TEMP TABLE a_sessions AS
WITH marked AS (
    SELECT a.seq, a.ikey, a.session_id, a.ts, a.ord, a.logout_after, a.expiry_us,
           (a.island_start OR coalesce(c.island IS NOT NULL AND a.prev_ts < a.ts, false)) AS seg_start
    FROM a_act AS a
    LEFT JOIN a_chain_starts AS c ON c.island = a.island AND c.ts = a.ts
),
numbered AS (
    SELECT *, sum(CAST(seg_start AS INTEGER))
                  OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS seg_id
    FROM marked
),
seg AS (
    SELECT ikey, session_id, seg_id,
           min(ts) AS start_ts,
           max(ts) AS last_ts,
           arg_min(ord, (ts, ord)) = 1 AS start_inferred,
           max(logout_after) AS logout_ts,
           any_value(expiry_us) AS expiry_us
    FROM numbered
    GROUP BY ikey, session_id, seg_id
),
deadlines AS (
    SELECT s.*,
           s.last_ts + to_microseconds(CAST($idle_us AS BIGINT)) AS idle_end,
           s.start_ts + to_microseconds(s.expiry_us) AS expiry_end,
           r.ts AS restart_end
    FROM seg AS s
    ASOF LEFT JOIN a_restarts AS r ON r.ikey = s.ikey AND r.ts > s.start_ts
),
ended AS (
    SELECT *, least(idle_end, expiry_end, restart_end) AS deadline
    FROM deadlines
)
SELECT e.ikey, i.instance, e.session_id,
       CAST(row_number() OVER (PARTITION BY e.ikey, e.session_id ORDER BY e.start_ts) AS INTEGER) AS segment,
       a."user", a.user_type, a.device, a.app, a.auth_flow, a.seats,
       NOT list_contains(CAST($uncounted AS VARCHAR[]), coalesce(a.user_type, '')) AS counted,
       e.start_ts,
       CASE WHEN e.logout_ts < e.deadline THEN e.logout_ts ELSE e.deadline END AS end_ts,
       CASE WHEN e.logout_ts < e.deadline THEN 'logout'
            WHEN e.deadline > (SELECT max(ts) FROM events) THEN 'open'
            WHEN e.deadline = e.idle_end THEN 'idle_timeout'
            WHEN e.deadline = e.expiry_end THEN 'absolute_expiry'
            ELSE 'restart' END AS end_reason,
       e.start_inferred
FROM ended AS e
JOIN a_sattr AS a USING (ikey, session_id)
JOIN a_instances AS i ON i.ikey = e.ikey
