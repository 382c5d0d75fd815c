-- audit_summary_history_levels: instance_summary's level inputs for an incremental audit:
-- this audit's daily_levels rows and the stored ones of the re-audited instances before
-- their restart days.
-- Reads: a_out_daily_levels, a_restart_points. Parameters: $files (all daily_levels partitions).
CREATE OR REPLACE TEMP TABLE a_summary_levels AS
SELECT instance, day, seats_in_use, in_use_us FROM a_out_daily_levels
UNION ALL
SELECT d.instance, d.day, d.seats_in_use, d.in_use_us
FROM read_parquet($files, hive_partitioning = false) AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
