-- snapshot_new_sessions: the sessions listed by this run's new polls (a duplicate poll's are not stored again).
-- Reads the table snapshot_staged_sessions, which ingest fills (rows of queries/ingest/snapshot_sessions.sql),
-- and the temp table snapshot_new_polls (queries/ingest/snapshot_new_polls.sql). Parameters: none.
-- Returns the columns of polled_sessions (ingest makes it the view its partition writer reads).
SELECT s.instance, s.polled_at, s.session_id, s."user", s.start_time, s.last_request_time, s.absolute_expiration_time,
       s.applications, s.device, s.current_requests, s.total_requests, s.download_mb, s.upload_mb
FROM snapshot_staged_sessions s
SEMI JOIN snapshot_new_polls n ON n.file_no = s.file_no AND n.line = s.line
