-- summary_daily: the daily_usage rows instance_summary is computed from: this audit's, and the
-- stored ones of the re-audited instances before their restart days (none for a full audit).
-- Reads: a_out_daily_usage, h_daily_usage, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_summary_daily AS
SELECT instance, day, peak_seats, peak_at, seconds_over_limit, breach_count, denials FROM a_out_daily_usage
UNION ALL
SELECT d.instance, d.day, d.peak_seats, d.peak_at, d.seconds_over_limit, d.breach_count, d.denials
FROM h_daily_usage AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
SEMI JOIN a_instances AS i ON i.instance = d.instance
