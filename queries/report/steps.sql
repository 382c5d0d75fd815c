-- steps: the step function of seats in use for each selected instance, clipped to its report period,
-- for the chart of concurrent seats (one row per usage_steps piece overlapping the period), with its
-- lower bound seats_in_use_min (the chart shades the band between them).
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]): the instances whose reports are rendered.
SELECT
    s.instance,
    greatest(u.step_start, s.period_start) AS step_start,
    least(u.step_end, s.period_end) AS step_end,
    u.seats_in_use,
    u.seats_in_use_min,
    u.seat_limit
FROM report_scope s
JOIN usage_steps u
  ON u.instance = s.instance AND u.step_start < s.period_end AND u.step_end > s.period_start
WHERE list_contains($instances, s.instance)
ORDER BY s.instance, step_start
