-- day_sessions: the sessions the days are computed from: those this audit computed, and the
-- stored ones (kept: they start before the restart point q) that overlap a re-audited
-- instance's restart day, which is recomputed whole from its local midnight d0.
-- Reads: a_sessions, h_sessions, a_restart_points, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_sessions AS
SELECT ikey, counted, start_ts, end_ts, "user", device FROM a_sessions
UNION ALL
SELECT i.ikey, s.counted, s.start_ts, s.end_ts, s."user", s.device
FROM h_sessions AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.start_ts < q.q AND s.end_ts > q.d0
JOIN a_instances AS i ON i.instance = s.instance
