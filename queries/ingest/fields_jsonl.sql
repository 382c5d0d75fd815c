-- fields_jsonl: the fields of each JSON Lines line of the batch being ingested, as text.
-- Defines the table macro `ingest_fields(guard)` (file_no, line, raw, parse_error, ts, instance, event, session_id, seats,
-- user, user_type, device, app, auth_flow, reason, unknown) over the Arrow batch `ingest_batch`
-- (file_no INTEGER, line BIGINT, raw VARCHAR ending in its line break, problem VARCHAR: NULL, or why the line cannot be read) that ingest registers.
-- queries/ingest/stage.sql validates and normalises it. Parameters: none (guard is the macro's own).
-- With guard, json_valid guards the extraction; without, malformed JSON makes the statement fail,
-- and ingest runs it again with guard: checking every line first is a second parse of each line,
-- and almost every batch has no malformed line. (try() would be simpler but keeps DuckDB from
-- sharing the one extraction among the eleven fields.)
-- JSON null means absent.
-- Blank lines hold no event and are not counted as read.
CREATE OR REPLACE TEMP MACRO ingest_fields(guard) AS TABLE
WITH parsed AS (
    SELECT
        file_no,
        line,
        raw,
        problem,
        CASE WHEN problem IS NULL THEN
            CASE WHEN NOT guard OR json_valid(raw) THEN json_extract_string(raw, ['$.ts', '$.instance', '$.event', '$.session_id', '$.seats', '$.user',
                                          '$.user_type', '$.device', '$.app', '$.auth_flow', '$.reason']) END
        END AS f
    FROM ingest_batch
    -- CASE, not OR: DuckDB reorders an OR's terms and would trim every line first; the first
    -- test settles almost every line without trimming it.
    WHERE CASE WHEN problem IS NOT NULL OR ascii(raw) NOT IN (32, 9, 10, 13) THEN true
               ELSE trim(raw, e' \t\r\n') <> '' END
)
SELECT
    file_no,
    line,
    raw,
    CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN f IS NULL THEN 'malformed JSON'
        WHEN f[1] IS NULL AND f[2] IS NULL AND f[3] IS NULL AND json_type(raw) <> 'OBJECT' THEN 'not a JSON object'
    END AS parse_error,
    f[1] AS ts,
    f[2] AS instance,
    f[3] AS event,
    f[4] AS session_id,
    f[5] AS seats,
    f[6] AS "user",
    f[7] AS user_type,
    f[8] AS device,
    f[9] AS app,
    f[10] AS auth_flow,
    f[11] AS reason,
    CASE WHEN f IS NOT NULL THEN
        nullif(list_filter(json_keys(raw), lambda k: k NOT IN ('ts', 'instance', 'event', 'session_id', 'seats',
                                                               'user', 'user_type', 'device', 'app', 'auth_flow',
                                                               'reason')), [])
    END AS unknown
FROM parsed
