-- snapshot_rows: what judging the lines needs of every element of their `rows`.
-- Reads the table macro snapshot_typed (queries/ingest/snapshot_typed.sql).
-- Parameters: $audit_sets VARCHAR[], $not_before, $not_after TIMESTAMPTZ — snapshot_typed's arguments.
-- Creates the temp table snapshot_rows: file_no, line, i (the row's place in `rows`, from 1), audit,
-- start_time, event_time and problem (NULL for a good row, else why it is bad).
CREATE OR REPLACE TEMP TABLE snapshot_rows AS
SELECT file_no, line, i, audit, start_time, event_time, problem
FROM snapshot_typed($audit_sets, $not_before, $not_after)
