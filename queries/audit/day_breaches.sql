-- day_breaches: the breaches the days are computed from: those this audit computed, and the
-- stored ones (kept: they start before the restart point q) that overlap a re-audited
-- instance's restart day, which is recomputed whole from its local midnight d0. One running
-- across q is not kept: audit/breaches recomputed it whole.
-- Reads: a_breaches, h_breaches, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_breaches AS
SELECT ikey, breach_start, breach_end, certain FROM a_breaches
UNION ALL
SELECT i.ikey, b.breach_start, b.breach_end, b.certain
FROM h_breaches AS b
JOIN a_restart_points AS q ON q.instance = b.instance AND b.breach_start < q.q AND b.breach_end > q.d0 AND b.breach_end <= q.q
JOIN a_instances AS i ON i.instance = b.instance
