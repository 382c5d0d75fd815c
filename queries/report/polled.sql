-- polled: the scoped instances whose report period holds polled data: a poll of its live sessions
-- (successful or not), a session a poll saw, or a stretch without a successful poll. Their reports
-- speak in bounds and name the polling interval, the coverage and the gaps.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: none.
SELECT s.instance
FROM report_scope s
WHERE EXISTS (SELECT 1 FROM polls p
               WHERE p.instance = s.instance AND p.polled_at >= s.period_start AND p.polled_at < s.period_end)
   OR EXISTS (SELECT 1 FROM sessions x
               WHERE x.instance = s.instance AND x.source = 'poll' AND x.start_ts < s.period_end AND x.end_ts > s.period_start)
   OR EXISTS (SELECT 1 FROM coverage_gaps g
               WHERE g.instance = s.instance AND g.gap_start < s.period_end AND g.gap_end > s.period_start)
ORDER BY s.instance
