-- summary_daily: the daily_usage rows instance_summary's verdict is computed from (v_daily, see
-- audit/verdict): this audit's, and the stored ones of the re-audited instances before their
-- restart days (none for a full audit).
-- Reads: a_out_daily_usage, h_daily_usage, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW v_daily AS
SELECT instance, day, peak_seats, peak_at, seconds_over_limit, seconds_at_limit, seconds_unlicensed,
       breach_count, in_breach_at_start, denials, peak_seats_min, seconds_over_limit_min,
       certain_breach_count, in_certain_breach_at_start
FROM a_out_daily_usage
UNION ALL
SELECT d.instance, d.day, d.peak_seats, d.peak_at, d.seconds_over_limit, d.seconds_at_limit, d.seconds_unlicensed,
       d.breach_count, d.in_breach_at_start, d.denials, d.peak_seats_min, d.seconds_over_limit_min,
       d.certain_breach_count, d.in_certain_breach_at_start
FROM h_daily_usage AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
SEMI JOIN a_instances AS i ON i.instance = d.instance
