-- snapshot_audit_lines: the audit-log lines of this run that are accepted, not duplicates: those that
-- add an entry, and those with no entry at all (a failed read of the audit log, or one that found none).
-- Reads `snapshot_staged` and `snapshot_staged_entries`, which ingest registers, and the temp table
-- snapshot_new_entries (queries/ingest/snapshot_new_entries.sql). Parameters: none.
-- Returns file_no, line.
SELECT l.file_no, l.line
FROM snapshot_staged l
WHERE l.audit
  AND (NOT EXISTS (SELECT 1 FROM snapshot_staged_entries e WHERE e.file_no = l.file_no AND e.line = l.line)
       OR EXISTS (SELECT 1 FROM snapshot_new_entries n WHERE n.file_no = l.file_no AND n.line = l.line))
