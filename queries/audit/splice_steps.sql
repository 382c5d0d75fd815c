-- splice_steps: the stored usage steps of the re-audited instances an incremental audit keeps
-- (a_kept_steps: they start before the restart point q and end at or before it; the days, the
-- breaches and the findings read them), and the one running across q (only a log segment the
-- absolute expiry ended exactly at q may reach q: see audit/covering), which is spliced. The stored
-- step holds its true start; this audit's sweep, which begins at q, holds its true end: a step of
-- this audit that starts at q with the same seats and limit continues it and takes the stored
-- start. Otherwise the level changes at q, and the stored step ends there. Either row has the
-- stored step's key, so it replaces it. None in a full audit (no restart point), nor where
-- nothing runs across q.
-- Reads: a_steps, h_usage_steps, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_kept_steps AS
SELECT i.ikey, s.instance, s.step_start, s.step_end, s.seats_in_use, s.seat_limit, s.seats_in_use_min, q.d0
FROM h_usage_steps AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.step_start < q.q AND s.step_end <= q.q
JOIN a_instances AS i ON i.instance = s.instance;

CREATE OR REPLACE TEMP TABLE a_straddling_steps AS
SELECT i.ikey, s.step_start, s.seats_in_use, s.seat_limit, s.seats_in_use_min, q.q
FROM h_usage_steps AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.step_start < q.q AND s.step_end > q.q
JOIN a_instances AS i ON i.instance = s.instance;

UPDATE a_steps AS a SET step_start = s.step_start
FROM a_straddling_steps AS s
WHERE a.ikey = s.ikey AND a.step_start = s.q AND a.seats_in_use = s.seats_in_use
  AND a.seat_limit IS NOT DISTINCT FROM s.seat_limit AND a.seats_in_use_min = s.seats_in_use_min;

INSERT INTO a_steps
SELECT s.ikey, s.step_start, s.q, s.seats_in_use, s.seat_limit, s.seats_in_use_min
FROM a_straddling_steps AS s
ANTI JOIN a_steps AS a ON a.ikey = s.ikey AND a.step_start = s.step_start;
