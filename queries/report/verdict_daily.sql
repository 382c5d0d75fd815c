-- verdict_daily: the per-day facts the verdict sums for each report's period (v_daily, see
-- audit/verdict): the warehouse's daily_usage.
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_daily AS
SELECT instance, day, peak_seats, peak_at, seconds_over_limit, seconds_at_limit, seconds_unlicensed,
       breach_count, in_breach_at_start, denials, peak_seats_min, seconds_over_limit_min,
       certain_breach_count, in_certain_breach_at_start
FROM daily_usage
