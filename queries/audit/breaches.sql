-- breaches: the maximal intervals in which seats_in_use > seat_limit.
-- Adjacent over-limit steps (one ends where the next starts) form one breach, also across
-- a change of the limit. peak_at: the first instant of the breach at the peak (explicit
-- tie-break: arg_max alone would pick any of the tied rows); seat_limit: the limit in
-- force at peak_at; max_excess: the largest seats_in_use - seat_limit within it. The intervals
-- are those of the upper bound; certain: the lower bound too is over the limit somewhere in
-- it, for certain_seconds in all (for a log, always and throughout).
-- The stored breaches of a re-audited instance that end at or before its restart point q are kept
-- (a_kept_breaches: the days read them). One that ran across q is recomputed whole: its stored
-- steps before q (carried) join this audit's, whose first step, across q, audit/splice_steps joined
-- to the stored one. Its key (instance, breach_start) then replaces the stored row.
-- Reads: a_steps, h_breaches, a_kept_steps, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_kept_breaches AS
SELECT i.ikey, b.instance, b.breach_start, b.breach_end, b.certain, q.d0
FROM h_breaches AS b
JOIN a_restart_points AS q ON q.instance = b.instance AND b.breach_start < q.q AND b.breach_end <= q.q
JOIN a_instances AS i ON i.instance = b.instance;

CREATE OR REPLACE TEMP TABLE a_breaches AS
WITH carried AS (
    SELECT s.ikey, s.step_start, s.step_end, s.seats_in_use, s.seat_limit, s.seats_in_use_min
    FROM h_breaches AS b
    JOIN a_restart_points AS q ON q.instance = b.instance AND b.breach_start < q.q AND b.breach_end > q.q
    JOIN a_kept_steps AS s ON s.instance = b.instance AND s.step_start >= b.breach_start
),
over AS (
    SELECT ikey, step_start, step_end, seats_in_use, seat_limit, seats_in_use_min
    FROM (SELECT ikey, step_start, step_end, seats_in_use, seat_limit, seats_in_use_min FROM a_steps
          UNION ALL
          SELECT * FROM carried)
    WHERE seat_limit IS NOT NULL AND seats_in_use > seat_limit
),
flagged AS (
    SELECT *,
           CASE WHEN lag(ikey) OVER o = ikey AND lag(step_end) OVER o = step_start THEN 0 ELSE 1 END AS opens
    FROM over
    WINDOW o AS (ORDER BY ikey, step_start)
),
grouped AS (
    SELECT *, sum(opens) OVER (ORDER BY ikey, step_start ROWS UNBOUNDED PRECEDING) AS breach
    FROM flagged
)
SELECT ikey,
       min(step_start) AS breach_start,
       max(step_end) AS breach_end,
       (epoch_us(max(step_end)) - epoch_us(min(step_start))) / 1e6 AS duration_s,
       max(seats_in_use) AS peak_seats,
       arg_min(step_start, (-seats_in_use, step_start)) AS peak_at,
       arg_min(seat_limit, (-seats_in_use, step_start)) AS seat_limit,
       max(seats_in_use - seat_limit) AS max_excess,
       bool_or(seats_in_use_min > seat_limit) AS certain,
       sum(CASE WHEN seats_in_use_min > seat_limit THEN epoch_us(step_end) - epoch_us(step_start) ELSE 0 END) / 1e6
           AS certain_seconds
FROM grouped
GROUP BY ikey, breach
