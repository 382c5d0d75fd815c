-- audit_activity: every login/request, with whether it opens and whether it closes an
-- "island" of its session - the one pass over the session events sorted in rule order
-- (skey, ts, ord: at equal times login 0 < request 1 < logout 2).
-- An activity e opens an island when the event before it in its session is missing or a
-- logout, or e is at least the idle timeout after it, or the instance restarted in
-- (its time, e.ts]. It closes one when the event after it is missing or a logout, or would
-- open one. Within an island only the absolute expiry can still split segments.
-- The restart test compares epochs: an event's epoch is the number of its instance's
-- restarts at or before it, so a restart lies in (a, b] exactly when epoch(b) > epoch(a)
-- (cheaper than a range join per event; most instances have no restart at all).
-- logout_after: the time of the logout directly after e, if one is (it ends e's segment
-- unless a deadline came first). seq: the position in the sort, which every later step
-- orders by (lag, lead and row_number share one window, so tied rows agree everywhere).
-- Only what later steps read is kept: the island boundaries, and every activity of the
-- sessions with an absolute expiry (the expiry chain walks them all).
-- Reads: a_events_in, a_sattr, a_restarts. Parameters: $idle_us (idle timeout in microseconds).
CREATE OR REPLACE TEMP TABLE a_act AS
WITH restart_lists AS (
    SELECT ikey, list(ts ORDER BY ts) AS restarts FROM a_restarts GROUP BY ikey
),
ev AS (
    SELECT s.skey, s.ikey, s.expiry_us, e.ts,
           CAST(CASE e.event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS TINYINT) AS ord,
           CASE WHEN r.restarts IS NULL THEN 0
                ELSE len(list_filter(r.restarts, lambda x: x <= e.ts)) END AS epoch
    FROM a_events_in AS e
    JOIN a_sattr AS s ON s.instance = e.instance AND s.session_id = e.session_id
    LEFT JOIN restart_lists AS r ON r.ikey = s.ikey
    WHERE e.event IN ('login', 'request', 'logout')
),
w AS (
    SELECT skey, ikey, expiry_us, ts, ord, epoch,
           row_number() OVER o AS seq,
           lag(skey) OVER o AS p_skey, lag(ts) OVER o AS p_ts, lag(ord) OVER o AS p_ord, lag(epoch) OVER o AS p_epoch,
           lead(skey) OVER o AS n_skey, lead(ts) OVER o AS n_ts, lead(ord) OVER o AS n_ord, lead(epoch) OVER o AS n_epoch
    FROM ev
    WINDOW o AS (ORDER BY skey, ts, ord)
)
SELECT * FROM (
    SELECT seq, skey, ikey, expiry_us, ts, ord,
           (p_skey IS DISTINCT FROM skey
            OR p_ord = 2
            OR ts >= p_ts + to_microseconds(CAST($idle_us AS BIGINT))
            OR epoch > p_epoch) AS opens,
           (n_skey IS DISTINCT FROM skey
            OR n_ord = 2
            OR n_ts >= ts + to_microseconds(CAST($idle_us AS BIGINT))
            OR n_epoch > epoch) AS closes,
           CASE WHEN n_skey = skey AND n_ord = 2 THEN n_ts END AS logout_after
    FROM w
    WHERE ord < 2
)
WHERE opens OR closes OR expiry_us IS NOT NULL
