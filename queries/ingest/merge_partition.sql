-- merge_partition: one date partition as it will be after this run: every distinct event once,
-- with the place it first appeared (-1 when it was already in the warehouse).
-- Reads `ingest_staged`, which ingest registers: the staged batches (rows of queries/ingest/stage.sql)
-- holding events of that date, streamed.
-- Parameters: $existing VARCHAR[] — the partition's current file (or an empty events file);
-- $day_start, $day_end TIMESTAMPTZ — the UTC day.
-- Creates the temp table ingest_merged(<the 11 event columns>, first_src BIGINT), where
-- first_src = file_no * 2^40 + line of the first occurrence in this run's input order. (A table
-- in DuckDB, not rows handed to Python: it spills beyond the memory limit, whatever the date's size.)
-- Two rows are the same event when all 11 normalised columns are equal (NULL equal to NULL).
-- Grouping by all 11 columns is costly, so rows are first grouped by a hash of them: a row whose
-- hash is unique is certainly distinct; only rows sharing a hash are compared column by column.
CREATE OR REPLACE TEMP TABLE ingest_merged AS
WITH candidates AS MATERIALIZED (
    SELECT *, hash(ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason) AS h
    FROM (
        SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason,
               CAST(-1 AS BIGINT) AS src
        FROM read_parquet($existing)
        UNION ALL
        SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason,
               CAST(file_no AS BIGINT) * 1099511627776 + line AS src
        FROM ingest_staged
        WHERE reject_reason IS NULL AND ts >= $day_start AND ts < $day_end
    )
),
shared AS (
    SELECT h FROM candidates GROUP BY h HAVING count(*) > 1
)
SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason, src AS first_src
FROM candidates ANTI JOIN shared USING (h)
UNION ALL
SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason, min(src)
FROM candidates SEMI JOIN shared USING (h)
GROUP BY ALL
