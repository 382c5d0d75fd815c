-- snapshot_new_entries: which audit-log entries of this run are new, and what each audit-log line added.
-- An entry is identified by (instance, Id): the first of an Id in this run's input order (file_no,
-- line, place in the line) is new unless the warehouse has it.
-- Reads `snapshot_staged_entries`, which ingest registers (rows of queries/ingest/snapshot_entries.sql).
-- Parameters: $existing VARCHAR[] — the audit_log partition files of the UTC dates the run's entries
-- fall on (or an empty audit_log file): an entry's Id fixes its event time, hence its partition.
-- Creates the temp table snapshot_new_entries: file_no, line, then the columns of audit_log.
CREATE OR REPLACE TEMP TABLE snapshot_new_entries AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY instance, id ORDER BY file_no, line, i) AS nth
    FROM snapshot_staged_entries
)
SELECT file_no, line, instance, id, event_time, event_class, event_type, application_name, details, "user"
FROM ranked s
WHERE nth = 1
  AND NOT EXISTS (SELECT 1 FROM read_parquet($existing) e WHERE e.instance = s.instance AND e.id = s.id)
