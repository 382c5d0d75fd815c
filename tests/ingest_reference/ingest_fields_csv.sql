-- ingest_fields_csv: the fields of each CSV row of the batch being ingested, as text.
-- Defines the view `ingest_fields` (same columns as queries/ingest_fields_jsonl.sql; `unknown` is
-- always NULL since a CSV file's unknown columns are named from its header) over the Arrow batch
-- `ingest_batch` (line BIGINT, raw VARCHAR ending in its line break, problem VARCHAR: NULL, or why the line cannot be read).
-- Reads the variable ingest_csv_header (set by queries/ingest_set_csv_header.sql). No parameters.
-- RFC 4180 quoting: a field may be enclosed in double quotes, and may then hold commas and doubled
-- quotes (""); a quote anywhere else, or an unclosed one, makes the row malformed. One row is one
-- line: a quoted field cannot hold a line break. An empty field means the field is absent.
CREATE OR REPLACE TEMP VIEW ingest_fields AS
WITH numbered AS (
    SELECT line, raw, problem, rtrim(raw, e'\r\n') AS r
    FROM ingest_batch
    -- (the first test settles almost every line without trimming it)
    WHERE problem IS NOT NULL OR ascii(raw) NOT IN (32, 9, 10, 13) OR trim(raw, e' \t\r\n') <> ''
),
split AS (
    SELECT
        line,
        raw,
        problem,
        CASE
            WHEN problem IS NOT NULL THEN NULL
            WHEN NOT contains(r, '"') THEN string_split(r, ',')
            WHEN regexp_full_match(r, '(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*') THEN
                list_transform(
                    -- a leading comma makes every field's match consume one: no empty matches to skip
                    regexp_extract_all(',' || r, ',("(?:[^"]|"")*"|[^,"]*)', 1),
                    lambda v: CASE WHEN starts_with(v, '"') THEN replace(v[2:-2], '""', '"') ELSE v END
                )
        END AS v
    FROM numbered
)
SELECT
    line,
    raw,
    CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN v IS NULL THEN 'malformed CSV row: bad quoting'
        WHEN len(v) <> len(getvariable('ingest_csv_header')) THEN 'malformed CSV row: wrong number of fields'
    END AS parse_error,
    v[list_position(getvariable('ingest_csv_header'), 'ts')] AS ts,
    v[list_position(getvariable('ingest_csv_header'), 'instance')] AS instance,
    v[list_position(getvariable('ingest_csv_header'), 'event')] AS event,
    v[list_position(getvariable('ingest_csv_header'), 'session_id')] AS session_id,
    v[list_position(getvariable('ingest_csv_header'), 'seats')] AS seats,
    v[list_position(getvariable('ingest_csv_header'), 'user')] AS "user",
    v[list_position(getvariable('ingest_csv_header'), 'user_type')] AS user_type,
    v[list_position(getvariable('ingest_csv_header'), 'device')] AS device,
    v[list_position(getvariable('ingest_csv_header'), 'app')] AS app,
    v[list_position(getvariable('ingest_csv_header'), 'auth_flow')] AS auth_flow,
    v[list_position(getvariable('ingest_csv_header'), 'reason')] AS reason,
    CAST(NULL AS VARCHAR[]) AS unknown
FROM split
