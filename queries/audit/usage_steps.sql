-- usage_steps: the step function of concurrent counted seats per instance, as two bounds.
-- A sweep over change points: +seats at each counted segment's start, -seats at its end
-- (zero-length segments are left out: they count nothing), in the upper bound (d) at its
-- latest possible end and in the lower bound (d_min) at its earliest (the same instant for a
-- log's segment: one row; a polled session whose earliest end is its start counts in the
-- upper bound only), and each entitlement boundary
-- with the seat limit in force after it (-1: none), one row per boundary instant (rows of
-- one instance do not overlap, so at most one starts there; max() prefers it to an end).
-- One window ordered by (ikey, ts) gives, at every change point, the level and the limit
-- after ALL the changes of its instant (the default RANGE frame takes the instant's rows as
-- peers; intervals are half-open) and before them (EXCLUDE GROUP leaves the instant's own
-- rows out). One global order, not PARTITION BY ikey: ten thousand small partitions cost
-- more than one pass. The running sum restarts at 0 at each instance because each
-- instance's changes net to zero; the limit carries the instance key in its high bits
-- (lim_code), so a limit never leaks into the next instance.
-- An instant starts a new piece exactly when (level, lower level, limit) differs from before
-- it; the piece lasts until the next instant that starts one. Only pieces above zero are kept
-- (the lower bound is never above the upper one).
-- Reads: a_sessions, a_ent. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_steps AS
WITH bounds AS (
    SELECT ikey, ts, (CAST(ikey AS BIGINT) << 32) + max(lim) + 1 AS lim_code
    FROM (
        SELECT ikey, valid_from_ts AS ts, seat_limit AS lim FROM a_ent
        UNION ALL
        SELECT ikey, valid_to_ts, -1 FROM a_ent WHERE valid_to_ts IS NOT NULL
    )
    GROUP BY ikey, ts
),
counted AS (
    SELECT ikey, start_ts, end_ts, end_ts_min, seats FROM a_sessions WHERE counted AND end_ts > start_ts
),
deltas AS (
    SELECT ikey, start_ts AS ts, seats AS d, CASE WHEN end_ts_min > start_ts THEN seats ELSE 0 END AS d_min,
           CAST(NULL AS BIGINT) AS lim_code
    FROM counted
    UNION ALL
    SELECT ikey, end_ts, -seats, CASE WHEN end_ts_min = end_ts THEN -seats ELSE 0 END, NULL FROM counted
    UNION ALL
    SELECT ikey, end_ts_min, 0, -seats, NULL FROM counted WHERE end_ts_min > start_ts AND end_ts_min < end_ts
    UNION ALL
    SELECT ikey, ts, 0, 0, lim_code FROM bounds
),
swept AS (
    SELECT ikey, ts,
           sum(d) OVER at_instant AS level,
           coalesce(sum(d) OVER before_instant, 0) AS level_before,
           sum(d_min) OVER at_instant AS level_min,
           coalesce(sum(d_min) OVER before_instant, 0) AS level_min_before,
           last_value(lim_code IGNORE NULLS) OVER at_instant AS lim_code,
           last_value(lim_code IGNORE NULLS) OVER before_instant AS lim_code_before,
           lead(ikey) OVER at_instant AS next_ikey,
           lead(ts) OVER at_instant AS next_ts
    FROM deltas
    WINDOW at_instant AS (ORDER BY ikey, ts),
           before_instant AS (ORDER BY ikey, ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP)
),
instants AS (
    -- one row per instant (the last of its peers, whichever the sort put last)
    SELECT ikey, ts, CAST(level AS BIGINT) AS level, CAST(level_before AS BIGINT) AS level_before,
           CAST(level_min AS BIGINT) AS level_min, CAST(level_min_before AS BIGINT) AS level_min_before,
           CASE WHEN lim_code >> 32 = ikey THEN CAST(lim_code & 4294967295 AS INTEGER) - 1 END AS lim,
           CASE WHEN lim_code_before >> 32 = ikey THEN CAST(lim_code_before & 4294967295 AS INTEGER) - 1 END AS lim_before
    FROM swept
    WHERE next_ikey IS DISTINCT FROM ikey OR next_ts <> ts
),
pieces AS (
    SELECT ikey, ts AS step_start, lead(ts) OVER (ORDER BY ikey, ts) AS step_end,
           level AS seats_in_use, level_min AS seats_in_use_min, CASE WHEN lim >= 0 THEN lim END AS seat_limit
    FROM instants
    WHERE level <> level_before OR level_min <> level_min_before OR lim IS DISTINCT FROM lim_before
)
SELECT ikey, step_start, step_end, seats_in_use, seat_limit, seats_in_use_min
FROM pieces
WHERE seats_in_use > 0
