-- changed_sessions: per instance, the earliest first event of a session that began
-- before the restart point and whose rule-3 attributes the new events change (seats, user,
-- user_type, device, app, auth_flow apply to all its segments, so all must be recomputed).
-- Reads: a_sattr (merged), a_session_state_in (stored), a_restart_points. Parameters: none.
SELECT a.instance, min(s.first_ts) AS first_ts
FROM a_sattr AS a
JOIN a_session_state_in AS s USING (instance, session_id)
JOIN a_restart_points AS q USING (instance)
WHERE s.first_ts < q.q
  AND (a.seats <> s.seats
       OR a."user" IS DISTINCT FROM s."user"
       OR a.user_type IS DISTINCT FROM s.user_type
       OR a.device IS DISTINCT FROM s.device
       OR a.app IS DISTINCT FROM s.app
       OR a.auth_flow IS DISTINCT FROM s.auth_flow)
GROUP BY a.instance
