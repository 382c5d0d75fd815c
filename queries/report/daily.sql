-- daily: daily_usage rows of each selected instance's report period (local days), for the chart of
-- daily peaks and the table of denials by day.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]).
SELECT d.*
FROM report_scope s
JOIN daily_usage d ON d.instance = s.instance AND d.day >= s.first_day AND d.day < s.end_day
WHERE list_contains($instances, s.instance)
ORDER BY d.instance, d.day
