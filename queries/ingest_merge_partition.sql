-- ingest_merge_partition: one date partition as it will be after this run: every distinct event once,
-- with the place it first appeared (-1 when it was already in the warehouse).
-- Parameters: $existing VARCHAR[] — the partition's current file (or an empty events file);
-- $staged VARCHAR[] — this run's staging files; $day_start, $day_end TIMESTAMPTZ — the UTC day.
-- Creates the temp table ingest_merged(<the 11 event columns>, first_src BIGINT), where
-- first_src = file_no * 2^40 + line of the first occurrence in this run's input order.
-- Two rows are the same event when all 11 normalised columns are equal (NULL equal to NULL).
CREATE OR REPLACE TEMP TABLE ingest_merged AS
SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason,
       min(src) AS first_src
FROM (
    SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason,
           CAST(-1 AS BIGINT) AS src
    FROM read_parquet($existing)
    UNION ALL
    SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason,
           CAST(file_no AS BIGINT) * 1099511627776 + line AS src
    FROM read_parquet($staged)
    WHERE reject_reason IS NULL AND ts >= $day_start AND ts < $day_end
)
GROUP BY ALL
