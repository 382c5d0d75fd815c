-- quality: data-quality counts for each instance's report period, from the session segments that
-- overlap it: counted segments, those closed by the idle timeout (no logout), those still open at the end of
-- the data, those whose start was inferred (the log began mid-session), and uncounted segments (e.g. VIR users);
-- of polled sessions, those that vanished from the polls and those only the audit log's logins saw (unseen).
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: none.
SELECT
    s.instance,
    CAST(count(*) FILTER (WHERE x.counted) AS INTEGER) AS counted_segments,
    CAST(count(*) FILTER (WHERE x.counted AND x.end_reason = 'idle_timeout') AS INTEGER) AS idle_timeouts,
    CAST(count(*) FILTER (WHERE x.counted AND x.end_reason = 'open') AS INTEGER) AS still_open,
    CAST(count(*) FILTER (WHERE x.counted AND x.start_inferred) AS INTEGER) AS inferred_starts,
    CAST(count(*) FILTER (WHERE x.counted AND x.end_reason = 'restart') AS INTEGER) AS ended_by_restart,
    CAST(count(*) FILTER (WHERE NOT x.counted) AS INTEGER) AS uncounted_segments,
    CAST(count(DISTINCT x."user") FILTER (WHERE x.counted) AS INTEGER) AS distinct_users,
    CAST(count(DISTINCT x.device) FILTER (WHERE x.counted) AS INTEGER) AS distinct_devices,
    CAST(count(*) FILTER (WHERE x.counted AND x.end_reason = 'vanished') AS INTEGER) AS vanished,
    CAST(count(*) FILTER (WHERE x.counted AND x.end_reason = 'unseen') AS INTEGER) AS unseen_logins
FROM report_scope s
JOIN sessions x ON x.instance = s.instance AND x.start_ts < s.period_end AND x.end_ts > s.period_start
GROUP BY s.instance
ORDER BY s.instance
