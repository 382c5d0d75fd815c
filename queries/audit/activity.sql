-- activity: every login/request, with whether it opens and whether it closes an
-- "island" of its session - the one pass over the session events sorted in rule order
-- (ts, ord within each session: at equal times login 0 < request 1 < logout 2).
-- An activity e opens an island when the event before it in its session is missing or a
-- logout, or e is at least the idle timeout after it, or the instance restarted in
-- (its time, e.ts]. It closes one when the event after it is missing or a logout, or would
-- open one. Within an island only the absolute expiry can still split segments.
-- Restarts: each restart of the instance that falls inside a session's span is put among
-- that session's events as a row of its own (before the events of its instant, as a
-- restart at t ends a segment before an event at t), so "the instance restarted between
-- two events" is "a restart row lies between them" - read in the same sorted pass.
-- Each row's sort key k = epoch_us(ts) * 4 + ord (a restart: epoch_us * 4 - 1, so ord 3 of
-- the microsecond before), so that one integer orders the rows and lag/lead of k alone tell
-- the neighbour's time (k >> 2) and kind (k & 3: 0 login, 1 request, 2 logout, 3 restart);
-- fewer window functions, a cheaper sort. The row's own time is k >> 2 too: the sort carries
-- no timestamp.
-- logout_after: the time of the logout directly after e, if one is (it ends e's segment
-- unless a deadline came first). seq: the position in (skey, ts, ord) order, which every
-- later step orders by: the session's key in the high bits, the row's number within the
-- session in the low ones (lag, lead and row_number share one window, so tied rows agree
-- everywhere).
-- The window is partitioned by session: DuckDB then works the sessions in parallel, where
-- one global ORDER BY window evaluates its functions on a single thread.
-- Only what later steps read is kept: the island boundaries, and every activity of the
-- sessions with an absolute expiry (the expiry chain walks them all).
-- Reads: a_events_in, a_sattr, a_restarts. Parameters: $idle_us (idle timeout in microseconds).
CREATE OR REPLACE TEMP TABLE a_act AS
WITH ev AS (
    SELECT s.skey, s.ikey, s.expiry_us,
           epoch_us(e.ts) * 4 + CASE e.event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS k
    FROM a_events_in AS e
    JOIN a_sattr AS s ON s.instance = e.instance AND s.session_id = e.session_id
    WHERE e.event IN ('login', 'request', 'logout')
    UNION ALL
    SELECT s.skey, s.ikey, s.expiry_us, epoch_us(r.ts) * 4 - 1 AS k
    FROM a_sattr AS s
    JOIN a_restarts AS r ON r.ikey = s.ikey AND r.ts > s.first_ts AND r.ts <= s.last_ts
),
w AS (
    SELECT skey, ikey, expiry_us, k,
           (CAST(skey AS BIGINT) << 32) + row_number() OVER o AS seq,
           lag(k) OVER o AS p_k,
           lead(k) OVER o AS n_k
    FROM ev
    WINDOW o AS (PARTITION BY skey ORDER BY k)
)
SELECT * FROM (
    SELECT seq, skey, ikey, expiry_us, make_timestamptz(k >> 2) AS ts, CAST(k & 3 AS TINYINT) AS ord,
           (p_k IS NULL OR p_k & 3 >= 2 OR (k >> 2) >= (p_k >> 2) + CAST($idle_us AS BIGINT)) AS opens,
           (n_k IS NULL OR n_k & 3 >= 2 OR (n_k >> 2) >= (k >> 2) + CAST($idle_us AS BIGINT)) AS closes,
           CASE WHEN n_k & 3 = 2 THEN make_timestamptz(n_k >> 2) END AS logout_after
    FROM w
    WHERE k & 3 < 2
)
WHERE opens OR closes OR expiry_us IS NOT NULL
