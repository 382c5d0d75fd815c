-- summary_findings: the findings the verdict counts in the audited period (v_finding_days, see
-- audit/verdict): this audit's and, of a re-audited instance, the stored ones before its restart day.
-- Reads: a_out_findings, h_findings, a_restart_points. Parameters: none.
CREATE OR REPLACE TEMP VIEW v_finding_days AS
SELECT instance, day, peak_seats_implied FROM a_out_findings
UNION ALL
SELECT h.instance, h.day, h.peak_seats_implied
FROM h_findings AS h
JOIN a_restart_points AS q ON q.instance = h.instance AND h.day < q.q_day
