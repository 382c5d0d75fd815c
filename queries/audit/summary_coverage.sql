-- summary_coverage: the daily_coverage rows instance_summary's verdict reads (v_coverage, see
-- audit/verdict): this audit's, and the stored ones of the re-audited instances before their
-- restart days (none for a full audit).
-- Reads: a_out_daily_coverage, h_daily_coverage, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW v_coverage AS
SELECT instance, day, covered_seconds FROM a_out_daily_coverage
UNION ALL
SELECT d.instance, d.day, d.covered_seconds
FROM h_daily_coverage AS d
JOIN a_restart_points AS q ON q.instance = d.instance AND d.day < q.q_day
SEMI JOIN a_instances AS i ON i.instance = d.instance
