-- snapshot_sessions: the sessions listed by the accepted session polls being staged.
-- Reads the table macro snapshot_typed and the temp table snapshot_lines (queries/ingest/snapshot_typed.sql,
-- snapshot_lines.sql). Parameters: $audit_sets VARCHAR[], $not_before, $not_after TIMESTAMPTZ — snapshot_typed's arguments.
-- Returns one row per element of `rows` of an accepted successful poll: file_no, line (of the poll),
-- then the columns of polled_sessions.
SELECT r.file_no, r.line, l.instance, l.polled_at, r.session_id, r."user", r.start_time, r.last_request_time,
       r.absolute_expiration_time, r.applications, r.device, CAST(r.current_requests AS INTEGER) AS current_requests,
       r.total_requests, r.download_mb, r.upload_mb
FROM snapshot_typed($audit_sets, $not_before, $not_after) r
JOIN snapshot_lines l ON l.file_no = r.file_no AND l.line = r.line
WHERE l.reject_reason IS NULL AND NOT l.audit
