-- audit_activity: every login/request with what decides whether it opens a segment.
-- For activity e and the session's previous activity p (rule order), e starts a new
-- "island" when there is no p, or a logout came between p and e, or e is at least the
-- idle timeout after p, or the instance restarted in (p.ts, e.ts]. Within an island only
-- the absolute expiry can still split segments (done by the expiry chain).
-- logout_after: the time of the logout that directly follows e, if one does (it can only
-- follow the last activity of a segment: it ends that segment unless a deadline came first).
-- Windows run over the whole table in seq order (one sort, no per-session partitions);
-- neighbours are compared on (ikey, session_id) instead.
-- Reads: a_sev, a_sattr, a_restarts. Parameters: $idle_us (idle timeout in microseconds).
CREATE OR REPLACE TEMP TABLE a_act AS
WITH w AS (
    SELECT seq, ikey, session_id, ts, ord,
           sum(CASE WHEN ord = 2 THEN 1 ELSE 0 END) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS logouts_before,
           CASE WHEN lead(ord) OVER (ORDER BY seq) = 2
                 AND lead(ikey) OVER (ORDER BY seq) = ikey
                 AND lead(session_id) OVER (ORDER BY seq) = session_id
                THEN lead(ts) OVER (ORDER BY seq) END AS logout_after
    FROM a_sev
),
act AS (
    SELECT seq, ikey, session_id, ts, ord, logouts_before, logout_after,
           CASE WHEN lag(ikey) OVER (ORDER BY seq) = ikey AND lag(session_id) OVER (ORDER BY seq) = session_id
                THEN lag(seq) OVER (ORDER BY seq) END AS prev_seq,
           lag(ts) OVER (ORDER BY seq) AS lag_ts,
           lag(logouts_before) OVER (ORDER BY seq) AS lag_logouts
    FROM w
    WHERE ord < 2
),
flagged AS (
    SELECT a.seq, a.ikey, a.session_id, a.ts, a.ord, a.logout_after,
           CASE WHEN a.prev_seq IS NOT NULL THEN a.lag_ts END AS prev_ts,
           (a.prev_seq IS NULL
            OR a.logouts_before > a.lag_logouts
            OR a.ts >= a.lag_ts + to_microseconds(CAST($idle_us AS BIGINT))
            OR coalesce(r.ts <= a.ts, false)) AS island_start
    FROM act AS a
    ASOF LEFT JOIN a_restarts AS r ON r.ikey = a.ikey AND r.ts > a.lag_ts
)
SELECT f.*, s.expiry_us,
       sum(CAST(f.island_start AS INTEGER)) OVER (ORDER BY f.seq ROWS UNBOUNDED PRECEDING) AS island
FROM flagged AS f
JOIN a_sattr AS s USING (ikey, session_id)
