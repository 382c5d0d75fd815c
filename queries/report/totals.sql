-- totals: each instance's figures for its report period, from usage_steps clipped to
-- [period_start, period_end), breaches overlapping the period and daily_usage rows of its local days.
-- peak_at is the first instant of the period at which the peak is reached (NULL when the peak is 0);
-- limit_reached: some instant had seats_in_use equal to the seat limit in force.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: none.
WITH clipped AS (
    SELECT
        s.instance,
        greatest(u.step_start, s.period_start) AS a,
        least(u.step_end, s.period_end) AS b,
        u.seats_in_use,
        u.seat_limit
    FROM report_scope s
    JOIN usage_steps u
      ON u.instance = s.instance AND u.step_start < s.period_end AND u.step_end > s.period_start
), per AS (
    SELECT
        instance,
        CAST(max(seats_in_use) AS BIGINT) AS peak_seats,
        coalesce(sum(epoch_us(b) - epoch_us(a)) FILTER (WHERE seats_in_use > seat_limit), 0) / 1e6 AS seconds_over_limit,
        coalesce(sum(epoch_us(b) - epoch_us(a)) FILTER (WHERE seats_in_use > 0), 0) / 1e6 AS seconds_in_use,
        coalesce(sum(epoch_us(b) - epoch_us(a)) FILTER (WHERE seats_in_use > 0 AND seat_limit IS NULL), 0) / 1e6 AS seconds_unlicensed,
        coalesce(bool_or(seats_in_use = seat_limit AND seats_in_use > 0), false) AS limit_reached
    FROM clipped
    GROUP BY instance
), first_peak AS (
    SELECT c.instance, min(c.a) AS peak_at
    FROM clipped c JOIN per p ON p.instance = c.instance AND c.seats_in_use = p.peak_seats
    WHERE p.peak_seats > 0
    GROUP BY c.instance
), br AS (
    SELECT s.instance, CAST(count(*) AS INTEGER) AS breach_count
    FROM report_scope s
    JOIN breaches b ON b.instance = s.instance AND b.breach_start < s.period_end AND b.breach_end > s.period_start
    GROUP BY s.instance
), days AS (
    SELECT s.instance, CAST(coalesce(sum(d.denials), 0) AS INTEGER) AS denials
    FROM report_scope s
    JOIN daily_usage d ON d.instance = s.instance AND d.day >= s.first_day AND d.day < s.end_day
    GROUP BY s.instance
)
SELECT
    s.instance,
    coalesce(per.peak_seats, 0) AS peak_seats,
    first_peak.peak_at,
    coalesce(per.seconds_over_limit, 0) AS seconds_over_limit,
    coalesce(per.seconds_in_use, 0) AS seconds_in_use,
    coalesce(per.seconds_unlicensed, 0) AS seconds_unlicensed,
    coalesce(per.limit_reached, false) AS limit_reached,
    coalesce(br.breach_count, 0) AS breach_count,
    coalesce(days.denials, 0) AS denials
FROM report_scope s
LEFT JOIN per ON per.instance = s.instance
LEFT JOIN first_peak ON first_peak.instance = s.instance
LEFT JOIN br ON br.instance = s.instance
LEFT JOIN days ON days.instance = s.instance
ORDER BY s.instance
