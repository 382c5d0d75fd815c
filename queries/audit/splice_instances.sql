-- splice_instances: the re-audited instances that a stored segment reaches up to their restart
-- point q (a log segment the absolute expiry ended exactly at q: see audit/covering). The usage
-- step and the breach running across q, if any, are joined to this audit's (audit/splice_steps,
-- audit/breaches), so their stored rows are read from wherever they start.
-- Reads: h_sessions, a_restart_points. Parameters: none.
SELECT DISTINCT s.instance
FROM h_sessions AS s
JOIN a_restart_points AS q ON q.instance = s.instance AND s.start_ts < q.q AND s.end_ts >= q.q
ORDER BY s.instance
