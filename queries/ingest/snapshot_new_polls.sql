-- snapshot_new_polls: which accepted session polls of this run are new.
-- A poll is identified by (instance, polled_at): the first line of a key in this run's input order
-- (file_no, line) is new unless the warehouse has the key; every other line of it is a duplicate.
-- Reads `snapshot_staged`, which ingest registers: the accepted snapshot lines of the run (columns of
-- queries/ingest/snapshot_lines.sql). Parameters: $existing VARCHAR[] — the polls partition files of
-- the UTC dates the run's polls fall on (or an empty polls file).
-- Creates the temp table snapshot_new_polls: file_no, line, then the columns of polls.
CREATE OR REPLACE TEMP TABLE snapshot_new_polls AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY instance, polled_at ORDER BY file_no, line) AS nth
    FROM snapshot_staged
    WHERE NOT audit
)
SELECT file_no, line, instance, polled_at, ok, error, listed, collector_user, collector_application, entity_set
FROM ranked s
WHERE nth = 1
  AND NOT EXISTS (SELECT 1 FROM read_parquet($existing) e WHERE e.instance = s.instance AND e.polled_at = s.polled_at)
