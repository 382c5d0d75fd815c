-- levels: how long each instance spent at each level of seats in use during its report period
-- (usage_steps clipped to [period_start, period_end)), for the recommended seat limit under a tolerance.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: none.
SELECT
    s.instance,
    u.seats_in_use,
    sum(epoch_us(least(u.step_end, s.period_end)) - epoch_us(greatest(u.step_start, s.period_start))) / 1e6 AS seconds
FROM report_scope s
JOIN usage_steps u
  ON u.instance = s.instance AND u.step_start < s.period_end AND u.step_end > s.period_start
WHERE u.seats_in_use > 0
GROUP BY ALL
ORDER BY s.instance, u.seats_in_use
