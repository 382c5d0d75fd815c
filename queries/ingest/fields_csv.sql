-- fields_csv: the fields of each CSV row of the batch being ingested, as text.
-- Defines the table macro `ingest_fields(guard)` (same columns as queries/ingest/fields_jsonl.sql; guard is
-- unused: nothing here can fail on bad input; `unknown` is
-- always NULL since a CSV file's unknown columns are named from its header) over the Arrow batch
-- `ingest_batch` (file_no INTEGER, line BIGINT, raw VARCHAR ending in its line break, problem VARCHAR: NULL, or why the line cannot be read).
-- Reads the variable ingest_csv_header (set by queries/ingest/set_csv_header.sql). Parameters: none.
-- RFC 4180 quoting: a field may be enclosed in double quotes, and may then hold commas and doubled
-- quotes (""); a quote anywhere else, or an unclosed one, makes the row malformed. One row is one
-- line: a quoted field cannot hold a line break. An empty field means the field is absent.
CREATE OR REPLACE TEMP MACRO ingest_fields(guard) AS TABLE
WITH numbered AS (
    SELECT file_no, line, raw, problem, contains(raw, '"') AS quoted
    FROM ingest_batch
    -- CASE, not OR: DuckDB reorders an OR's terms and would trim every line first; the first
    -- test settles almost every line without trimming it.
    WHERE CASE WHEN problem IS NOT NULL OR ascii(raw) NOT IN (32, 9, 10, 13) THEN true
               ELSE trim(raw, e' \t\r\n') <> '' END
),
split AS (
    SELECT
        file_no,
        line,
        raw,
        problem,
        quoted,
        CASE
            WHEN problem IS NOT NULL THEN NULL
            -- the line break stays on the last field (cut below): cutting it from every line first
            -- copies each line and cost as much as the split
            WHEN NOT quoted THEN string_split(raw, ',')
            WHEN regexp_full_match(rtrim(raw, e'\r\n'), '(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*') THEN
                list_transform(
                    -- a leading comma makes every field's match consume one: no empty matches to skip
                    regexp_extract_all(',' || rtrim(raw, e'\r\n'), ',("(?:[^"]|"")*"|[^,"]*)', 1),
                    lambda v: CASE WHEN starts_with(v, '"') THEN replace(v[2:-2], '""', '"') ELSE v END
                )
        END AS v
    FROM numbered
),
fields AS (
    SELECT
        *,
        -- the last field of an unquoted row, without the line break
        CASE WHEN quoted THEN v[-1] ELSE rtrim(v[-1], e'\r\n') END AS v_last
    FROM split
)
SELECT
    file_no,
    line,
    raw,
    CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN v IS NULL THEN 'malformed CSV row: bad quoting'
        WHEN len(v) <> len(getvariable('ingest_csv_header')) THEN 'malformed CSV row: wrong number of fields'
    END AS parse_error,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'ts') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'ts')] END AS ts,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'instance') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'instance')] END AS instance,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'event') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'event')] END AS event,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'session_id') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'session_id')] END AS session_id,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'seats') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'seats')] END AS seats,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'user') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'user')] END AS "user",
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'user_type') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'user_type')] END AS user_type,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'device') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'device')] END AS device,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'app') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'app')] END AS app,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'auth_flow') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'auth_flow')] END AS auth_flow,
    CASE WHEN list_position(getvariable('ingest_csv_header'), 'reason') = len(getvariable('ingest_csv_header')) THEN v_last
         ELSE v[list_position(getvariable('ingest_csv_header'), 'reason')] END AS reason,
    CAST(NULL AS VARCHAR[]) AS unknown
FROM fields
