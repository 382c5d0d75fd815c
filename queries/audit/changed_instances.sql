-- changed_instances: the instances whose rows this audit changes: those it re-audited, and
-- those with a stored open segment whose end reason it relabels (they may have no new event).
-- Reads: a_instances, a_relabeled_sessions, h_open_sessions. Parameters: none.
SELECT instance FROM a_instances
UNION
SELECT r.instance
FROM a_relabeled_sessions AS r
JOIN h_open_sessions AS o USING (instance, session_id, segment, start_ts)
WHERE o.end_reason IS DISTINCT FROM r.end_reason
ORDER BY instance
