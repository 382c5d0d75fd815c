-- breaches: the maximal intervals in which seats_in_use > seat_limit.
-- Adjacent over-limit steps (one ends where the next starts) form one breach, also across
-- a change of the limit. peak_at: the first instant of the breach at the peak (explicit
-- tie-break: arg_max alone would pick any of the tied rows); seat_limit: the limit in
-- force at peak_at; max_excess: the largest seats_in_use - seat_limit within it. The intervals
-- are those of the upper bound; certain: the lower bound too is over the limit somewhere in
-- it, for certain_seconds in all (for a log, always and throughout).
-- Reads: a_steps. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_breaches AS
WITH over AS (
    SELECT * FROM a_steps WHERE seat_limit IS NOT NULL AND seats_in_use > seat_limit
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
