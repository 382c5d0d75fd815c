-- audit_out_sessions: the sessions rows this audit computed, with the partition they belong to (part).
-- part: the UTC date of start_ts.
-- Reads: a_sessions. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_sessions AS
SELECT instance, session_id, segment, "user", user_type, device, app, auth_flow, seats, counted,
       start_ts, end_ts, end_reason, start_inferred, last_activity_ts,
       strftime(timezone('UTC', start_ts), '%Y-%m-%d') AS part
FROM a_sessions
