-- summary_gaps: the coverage gaps instance_summary's verdict reads (v_gaps, see audit/verdict):
-- this audit's, and the stored ones of the re-audited instances it keeps (ending before their
-- restart point, and not computed again).
-- Reads: a_out_coverage_gaps, h_coverage_gaps, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW v_gaps AS
SELECT instance, gap_start, gap_end FROM a_out_coverage_gaps
UNION ALL
SELECT g.instance, g.gap_start, g.gap_end
FROM h_coverage_gaps AS g
JOIN a_restart_points AS q ON q.instance = g.instance AND g.gap_end < q.q
SEMI JOIN a_instances AS i ON i.instance = g.instance
ANTI JOIN a_out_coverage_gaps AS n ON n.instance = g.instance AND n.gap_start = g.gap_start
