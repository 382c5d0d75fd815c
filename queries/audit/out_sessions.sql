-- out_sessions: the sessions rows this audit gives: the segments it computed and the stored
-- open segments it relabels.
-- Reads: a_sessions, a_relabeled_sessions. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_sessions AS
SELECT instance, session_id, segment, "user", user_type, device, app, auth_flow, seats, counted,
       start_ts, end_ts, end_reason, start_inferred, last_activity_ts, end_ts_min, source, uncounted_reason
FROM a_sessions
UNION ALL
SELECT instance, session_id, segment, "user", user_type, device, app, auth_flow, seats, counted,
       start_ts, end_ts, end_reason, start_inferred, last_activity_ts, end_ts_min, source, uncounted_reason
FROM a_relabeled_sessions
