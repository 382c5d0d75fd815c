-- audit_usage_steps: the step function of concurrent counted seats per instance.
-- A sweep over change points: +seats at each counted segment's start, -seats at its end
-- (zero-length segments are left out: they count nothing), and 0 at each entitlement
-- boundary so that pieces split where the seat limit changes. One global running sum
-- ordered by (ikey, ts) - each instance's changes net to zero, so the sum restarts at 0 at
-- every instance boundary - and the level at an instant is the sum after ALL its changes
-- (they apply together: intervals are half-open). Pieces are then
-- merged while (seats_in_use, seat_limit) stay the same; only pieces above zero are kept.
-- Reads: a_sessions, a_ent. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_steps AS
WITH deltas AS (
    SELECT ikey, start_ts AS ts, seats AS d FROM a_sessions WHERE counted AND end_ts > start_ts
    UNION ALL
    SELECT ikey, end_ts, -seats FROM a_sessions WHERE counted AND end_ts > start_ts
    UNION ALL
    SELECT ikey, valid_from_ts, 0 FROM a_ent
    UNION ALL
    SELECT ikey, valid_to_ts, 0 FROM a_ent WHERE valid_to_ts IS NOT NULL
),
running AS (
    SELECT ikey, ts,
           -- the default frame (RANGE ... CURRENT ROW) takes every change of an instant
           -- as a peer: each row of the instant carries the level after all of them
           sum(d) OVER (ORDER BY ikey, ts) AS level,
           lead(ikey) OVER (ORDER BY ikey, ts) AS next_ikey,
           lead(ts) OVER (ORDER BY ikey, ts) AS next_ts
    FROM deltas
),
instants AS (
    -- one row per instant (the last of its peers, whichever the sort put last)
    SELECT ikey, ts, CAST(level AS INTEGER) AS level,
           lead(ts) OVER (ORDER BY ikey, ts) AS until
    FROM running
    WHERE next_ikey IS DISTINCT FROM ikey OR next_ts <> ts
),
pieces AS (
    SELECT p.ikey, p.ts AS step_start, p.until AS step_end, p.level AS seats_in_use,
           CASE WHEN e.valid_to_ts IS NULL OR e.valid_to_ts > p.ts THEN e.seat_limit END AS seat_limit
    FROM instants AS p
    ASOF LEFT JOIN a_ent AS e ON e.ikey = p.ikey AND e.valid_from_ts <= p.ts
    WHERE p.level > 0
),
flagged AS (
    SELECT *,
           CASE WHEN lag(ikey) OVER o = ikey AND lag(step_end) OVER o = step_start
                     AND lag(seats_in_use) OVER o = seats_in_use
                     AND lag(seat_limit) OVER o IS NOT DISTINCT FROM seat_limit
                THEN 0 ELSE 1 END AS opens
    FROM pieces
    WINDOW o AS (ORDER BY ikey, step_start)
),
grouped AS (
    SELECT *, sum(opens) OVER (ORDER BY ikey, step_start ROWS UNBOUNDED PRECEDING) AS piece
    FROM flagged
)
SELECT ikey, min(step_start) AS step_start, max(step_end) AS step_end,
       any_value(seats_in_use) AS seats_in_use, any_value(seat_limit) AS seat_limit
FROM grouped
GROUP BY ikey, piece
