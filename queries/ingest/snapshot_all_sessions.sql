-- snapshot_all_sessions: every staged session, when every accepted session poll of the run is new (the
-- usual run: no poll given twice, none already in the warehouse). The same rows as
-- queries/ingest/snapshot_new_sessions.sql then, without its join on the new polls.
-- Reads the table snapshot_staged_sessions, which ingest fills (rows of queries/ingest/snapshot_sessions.sql).
-- Parameters: none.
-- Returns the columns of polled_sessions (ingest makes it the view its partition writer reads).
SELECT s.instance, s.polled_at, s.session_id, s."user", s.start_time, s.last_request_time, s.absolute_expiration_time,
       s.applications, s.device, s.current_requests, s.total_requests, s.download_mb, s.upload_mb
FROM snapshot_staged_sessions s
