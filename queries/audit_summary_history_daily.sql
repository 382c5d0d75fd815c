-- audit_summary_history_daily: instance_summary's daily inputs for an incremental audit:
-- this audit's daily_usage rows and the stored ones of the re-audited instances before
-- their restart days.
-- Reads: a_out_daily_usage, a_restart_points. Parameters: $files (all daily_usage partitions).
CREATE OR REPLACE TEMP TABLE a_summary_daily AS
SELECT instance, day, peak_seats, peak_at, seconds_over_limit, breach_count, denials FROM a_out_daily_usage
UNION ALL
SELECT d.instance, d.day, d.peak_seats, d.peak_at, d.seconds_over_limit, d.breach_count, d.denials
FROM read_parquet($files, hive_partitioning = false) AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
