-- audit_summary_inputs_daily: the daily_usage rows instance_summary is computed from:
-- this audit's and the ones it keeps (a_kept_daily_usage, empty for a full audit).
-- Reads: a_out_daily_usage, a_kept_daily_usage. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_summary_daily AS
SELECT instance, day, peak_seats, peak_at, seconds_over_limit, breach_count, denials FROM a_out_daily_usage
UNION ALL
SELECT instance, day, peak_seats, peak_at, seconds_over_limit, breach_count, denials FROM a_kept_daily_usage
