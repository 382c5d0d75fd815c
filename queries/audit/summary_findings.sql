-- summary_findings: per instance in instance_summary, its findings in the audited period (their local
-- day in [first_day, end_day)) and the peak the licence would have counted: the counted peak, or a
-- finding's peak_seats_implied where higher. Each finding is judged on its own: two findings of one
-- segment (its devices and its users) describe the same sessions and are not added up.
-- The findings are this audit's and, of a re-audited instance, the stored ones before its restart day.
-- Reads: a_out_findings, h_findings, a_restart_points, v_periods. Parameters: none.
CREATE OR REPLACE TEMP TABLE v_findings AS
WITH f AS (
    SELECT instance, day, peak_seats_implied FROM a_out_findings
    UNION ALL
    SELECT h.instance, h.day, h.peak_seats_implied
    FROM h_findings AS h
    JOIN a_restart_points AS q ON q.instance = h.instance AND h.day < q.q_day
)
SELECT p.instance, count(*) AS findings, max(f.peak_seats_implied) AS peak_seats_implied
FROM f
JOIN v_periods AS p ON p.instance = f.instance AND f.day >= p.first_day AND f.day < p.end_day
GROUP BY p.instance
