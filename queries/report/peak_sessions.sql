-- peak_sessions: who was connected at each breach's peak: the counted session segments in progress at
-- the breach's peak_at (start_ts <= peak_at < end_ts), most seats first. Their seats add up to the peak.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]).
SELECT
    b.instance,
    b.breach_start,
    x.session_id,
    x.segment,
    x."user",
    x.user_type,
    x.device,
    x.app,
    x.auth_flow,
    x.seats,
    x.start_ts,
    x.end_ts
FROM report_scope s
JOIN breaches b ON b.instance = s.instance AND b.breach_start < s.period_end AND b.breach_end > s.period_start
JOIN sessions x ON x.instance = b.instance AND x.counted AND x.start_ts <= b.peak_at AND x.end_ts > b.peak_at
WHERE list_contains($instances, s.instance)
ORDER BY b.instance, b.breach_start, x.seats DESC, x."user" NULLS LAST, x.start_ts, x.session_id, x.segment
