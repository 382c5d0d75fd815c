-- audit_out_session_state: the session_state rows this audit computed, with the partition they belong to (part).
-- part: the UTC date of the session's first event. segments: all its segments, kept + new.
-- Reads: a_sattr, a_sessions. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_session_state AS
SELECT a.instance, a.session_id, a.first_ts, a.seats, a."user", a.user_key, a.user_type, a.user_type_key,
       a.device, a.device_key, a.app, a.app_key, a.auth_flow, a.auth_flow_key,
       CAST(a.segments_before + coalesce(n.segments, 0) AS INTEGER) AS segments,
       strftime(timezone('UTC', a.first_ts), '%Y-%m-%d') AS part
FROM a_sattr AS a
LEFT JOIN (SELECT skey, count(*) AS segments FROM a_sessions GROUP BY skey) AS n USING (skey)
