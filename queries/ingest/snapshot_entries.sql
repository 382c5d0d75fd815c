-- snapshot_entries: the audit-log entries of the accepted audit-log lines being staged.
-- Reads the table macro snapshot_typed and the temp table snapshot_lines (queries/ingest/snapshot_typed.sql,
-- snapshot_lines.sql). Parameters: $audit_sets VARCHAR[], $not_before, $not_after TIMESTAMPTZ — snapshot_typed's arguments.
-- Returns one row per entry: file_no, line (of the line), i (its place in `rows`), then the columns of audit_log.
SELECT r.file_no, r.line, r.i, l.instance, r.id, r.event_time, r.event_class, r.event_type, r.application_name,
       r.details, r."user"
FROM snapshot_typed($audit_sets, $not_before, $not_after) r
JOIN snapshot_lines l ON l.file_no = r.file_no AND l.line = r.line
WHERE l.reject_reason IS NULL AND l.audit
