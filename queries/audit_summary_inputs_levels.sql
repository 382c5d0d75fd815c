-- audit_summary_inputs_levels: the daily_levels rows instance_summary is computed from:
-- this audit's and the ones it keeps (a_kept_daily_levels, empty for a full audit).
-- Reads: a_out_daily_levels, a_kept_daily_levels. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_summary_levels AS
SELECT instance, day, seats_in_use, in_use_us FROM a_out_daily_levels
UNION ALL
SELECT instance, day, seats_in_use, in_use_us FROM a_kept_daily_levels
