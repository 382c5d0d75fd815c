-- snapshot_lines: the snapshot lines being staged, judged: accepted as they are, or rejected whole.
-- Reads the Arrow table `snapshot_batch` that ingest registers: one row per snapshot line that parsed
-- (file_no, line, raw, and the line's fields as JSON gave them: instance, entity_set, polled_at, error,
-- collector, rows), and the temp table snapshot_rows.
-- Parameters: $session_sets, $audit_sets VARCHAR[] — the entity sets of the live-sessions view and of
-- the audit log (each under its current and its former name); $not_before, $not_after TIMESTAMPTZ.
-- Creates the temp table snapshot_lines: file_no, line, instance (trimmed, lower-case, as for log
-- events), entity_set, audit, polled_at, ok (rows, not error), error, listed (sessions listed; NULL
-- for a failed poll), the collector's user and application, first and last (the earliest and
-- latest instant the line speaks of: polled_at, every StartTime and EventTimeUtc), reject_reason
-- (NULL for a good line) and raw (the text of a rejected line). A line with a bad row is rejected
-- whole, naming its first bad row (numbered from 1): half a poll would look like vanished sessions.
CREATE OR REPLACE TEMP TABLE snapshot_lines AS
WITH per_line AS (
    SELECT file_no, line,
           min(i) FILTER (WHERE problem IS NOT NULL) AS bad_row,
           arg_min(problem, i) FILTER (WHERE problem IS NOT NULL) AS bad_problem,
           least(min(start_time), min(event_time)) AS rows_first,
           max(event_time) AS rows_last
    FROM snapshot_rows
    GROUP BY file_no, line
),
fields AS (
    SELECT
        b.file_no, b.line, b.raw,
        nullif(lower(trim(b.instance)), '') AS instance,
        b.entity_set,
        list_contains($audit_sets, b.entity_set) AS audit,
        b.polled_at AS polled_text,
        ingest_instant(b.polled_at) AS polled_at,
        nullif(trim(b.error), '') AS error,
        b.rows IS NOT NULL AS has_rows,
        len(b.rows) AS n_rows,
        nullif(trim(b.collector.user), '') AS collector_user,
        nullif(trim(b.collector.application), '') AS collector_application,
        p.bad_row, p.bad_problem, p.rows_first, p.rows_last
    FROM snapshot_batch b
    LEFT JOIN per_line p ON p.file_no = b.file_no AND p.line = b.line
),
judged AS (
    SELECT
        *,
        CASE
            WHEN instance IS NULL THEN 'missing instance'
            WHEN entity_set IS NULL THEN 'missing entity_set'
            WHEN NOT (audit OR list_contains($session_sets, entity_set)) THEN 'unknown entity_set'
            WHEN polled_text IS NULL THEN 'missing polled_at'
            WHEN instant_problem('polled_at', polled_text, polled_at, $not_before, $not_after) IS NOT NULL
            THEN instant_problem('polled_at', polled_text, polled_at, $not_before, $not_after)
            WHEN has_rows AND error IS NOT NULL THEN 'both rows and error'
            WHEN NOT has_rows AND error IS NULL THEN 'neither rows nor error'
            WHEN bad_row IS NOT NULL THEN 'bad row ' || bad_row || ': ' || bad_problem
        END AS reject_reason
    FROM fields
)
SELECT
    file_no, line, instance, entity_set, audit, polled_at,
    has_rows AS ok,
    error,
    CASE WHEN has_rows THEN CAST(n_rows AS INTEGER) END AS listed,
    collector_user, collector_application,
    least(polled_at, rows_first) AS first,
    greatest(polled_at, rows_last) AS last,
    reject_reason,
    CASE WHEN reject_reason IS NOT NULL THEN rtrim(raw, e'\r\n') END AS raw
FROM judged
