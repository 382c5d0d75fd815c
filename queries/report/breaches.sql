-- breaches: the breaches overlapping each selected instance's report period, unclipped, in time order.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]).
SELECT b.*
FROM report_scope s
JOIN breaches b ON b.instance = s.instance AND b.breach_start < s.period_end AND b.breach_end > s.period_start
WHERE list_contains($instances, s.instance)
ORDER BY b.instance, b.breach_start
