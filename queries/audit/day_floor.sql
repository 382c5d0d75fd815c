-- day_floor: per re-audited instance, the first local day an incremental audit
-- computes: its restart day (that day whole, from the kept rows of its first hours and the
-- new ones; the days before it stay as stored). A full audit has no floor.
-- Reads: a_restart_points. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_floor AS
SELECT instance, q_day AS first_day FROM a_restart_points
