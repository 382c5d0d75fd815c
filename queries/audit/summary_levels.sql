-- summary_levels: the daily_levels rows instance_summary's verdict is computed from (v_levels, see
-- audit/verdict): this audit's, and the stored ones of the re-audited instances before their
-- restart days (none for a full audit).
-- Reads: a_out_daily_levels, h_daily_levels, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW v_levels AS
SELECT instance, day, seats_in_use, in_use_us FROM a_out_daily_levels
UNION ALL
SELECT d.instance, d.day, d.seats_in_use, d.in_use_us
FROM h_daily_levels AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
SEMI JOIN a_instances AS i ON i.instance = d.instance
