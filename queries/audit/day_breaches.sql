-- day_breaches: the breaches the days are computed from: those this audit computed, and the
-- stored ones it keeps (a_kept_breaches, see audit/breaches) that overlap a re-audited
-- instance's restart day, which is recomputed whole from its local midnight d0.
-- Reads: a_breaches, a_kept_breaches. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_breaches AS
SELECT ikey, breach_start, breach_end, certain FROM a_breaches
UNION ALL
SELECT ikey, breach_start, breach_end, certain FROM a_kept_breaches WHERE breach_end > d0
