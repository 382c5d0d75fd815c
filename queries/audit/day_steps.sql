-- day_steps: the usage steps the days are computed from: those this audit computed, and the
-- stored ones (kept: before the restart point q) that overlap a re-audited instance's
-- restart day (from its local midnight d0). One running across q is not kept: audit/splice_steps
-- joined it to this audit's steps.
-- Reads: a_steps, a_kept_steps. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_steps AS
SELECT ikey, step_start, step_end, seats_in_use, seat_limit, seats_in_use_min FROM a_steps
UNION ALL
SELECT ikey, step_start, step_end, seats_in_use, seat_limit, seats_in_use_min
FROM a_kept_steps
WHERE step_end > d0
