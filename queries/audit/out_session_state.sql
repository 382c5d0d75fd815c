-- out_session_state: the session_state rows this audit gives: one per session with events in
-- a_events_in; segments counts its kept segments and the new ones.
-- Reads: a_sattr, a_sessions. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_session_state AS
SELECT a.instance, a.session_id, a.first_ts, a.seats, a."user", a.user_key, a.user_type, a.user_type_key,
       a.device, a.device_key, a.app, a.app_key, a.auth_flow, a.auth_flow_key,
       CAST(a.segments_before + coalesce(n.segments, 0) AS INTEGER) AS segments
FROM a_sattr AS a
LEFT JOIN (SELECT skey, count(*) AS segments FROM a_sessions GROUP BY skey) AS n USING (skey)
