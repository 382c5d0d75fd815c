-- snapshot_entries: the audit-log entries of the accepted audit-log lines being staged.
-- Reads the temp tables snapshot_rows and snapshot_lines (queries/ingest/snapshot_rows.sql,
-- snapshot_lines.sql). Parameters: none.
-- Returns one row per entry: file_no, line (of the line), i (its place in `rows`), then the columns of audit_log.
SELECT r.file_no, r.line, r.i, l.instance, r.id, r.event_time, r.event_class, r.event_type, r.application_name,
       r.details, r."user"
FROM snapshot_rows r
JOIN snapshot_lines l ON l.file_no = r.file_no AND l.line = r.line
WHERE l.reject_reason IS NULL AND l.audit
