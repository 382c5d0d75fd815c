-- day_breaches: the breaches the days count: those this audit computed, and the stored ones
-- that start on a re-audited instance's restart day before its restart point.
-- Reads: a_breaches, h_breaches, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_breaches AS
SELECT ikey, breach_start FROM a_breaches
UNION ALL
SELECT i.ikey, b.breach_start
FROM h_breaches AS b
JOIN a_restart_points AS q ON q.instance = b.instance AND b.breach_start < q.q AND b.breach_start >= q.d0
JOIN a_instances AS i ON i.instance = b.instance
