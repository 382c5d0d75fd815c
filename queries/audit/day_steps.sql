-- day_steps: the usage steps the days are computed from: those this audit computed, and the
-- stored ones (kept: before the restart point q) that overlap a re-audited instance's
-- restart day (from its local midnight d0). One running across q is not kept: audit/splice_steps
-- joined it to this audit's steps.
-- Reads: a_steps, h_usage_steps, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_steps AS
SELECT ikey, step_start, step_end, seats_in_use, seat_limit, seats_in_use_min FROM a_steps
UNION ALL
SELECT i.ikey, s.step_start, s.step_end, s.seats_in_use, s.seat_limit, s.seats_in_use_min
FROM h_usage_steps AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.step_start < q.q AND s.step_end > q.d0 AND s.step_end <= q.q
JOIN a_instances AS i ON i.instance = s.instance
