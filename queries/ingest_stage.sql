-- ingest_stage: validate and normalise one batch of lines, and write it to a staging file.
-- Reads the view `ingest_fields` (queries/ingest_fields_jsonl.sql or ingest_fields_csv.sql).
-- Parameters: $file_no INTEGER — the input file's number in this run; $path VARCHAR — the file to write.
-- Writes one row per line that is not blank: file_no, line, the event's 11 normalised columns, and for
-- a rejected line its reject_reason (NULL for a valid event) and raw text (without its line break);
-- `unknown` lists field names outside the contract (JSON Lines only).
-- Normalisation (the identity duplicates are judged by): ts a UTC instant in microseconds (digits
-- past the microsecond are cut); instance trimmed and lower-case; event lower-case; text fields
-- trimmed, empty meaning absent; user_type upper-case and auth_flow lower-case, as ERP.net writes
-- them; seats 1 when absent.
COPY (
WITH cleaned AS (
    SELECT
        line,
        raw,
        parse_error,
        trim(ts) AS ts_text,
        nullif(lower(trim(instance)), '') AS instance,
        nullif(lower(trim(event)), '') AS event,
        nullif(trim(session_id), '') AS session_id,
        nullif(trim(seats), '') AS seats_text,
        nullif(trim("user"), '') AS "user",
        nullif(upper(trim(user_type)), '') AS user_type,
        nullif(trim(device), '') AS device,
        nullif(trim(app), '') AS app,
        nullif(lower(trim(auth_flow)), '') AS auth_flow,
        nullif(trim(reason), '') AS reason,
        unknown
    FROM ingest_fields
),
typed AS (
    SELECT
        *,
        -- The cast alone would also take a bare date or 'infinity': insist on a date and a
        -- time (T or a space between them); the cast checks the rest, offset included.
        CASE
            WHEN ts_text LIKE '____-__-__T__:__:__%' OR ts_text LIKE '____-__-__ __:__:__%'
            THEN TRY_CAST(ts_text AS TIMESTAMPTZ)
        END AS ts,
        CASE
            WHEN seats_text IS NULL THEN 1
            WHEN strlen(seats_text) <= 10 AND ltrim(seats_text, '0123456789') = ''
            THEN TRY_CAST(seats_text AS INTEGER)
        END AS seats
    FROM cleaned
),
judged AS (
    SELECT
        *,
        CASE
            WHEN parse_error IS NOT NULL THEN parse_error
            WHEN ts_text IS NULL OR ts_text = '' THEN 'missing ts'
            WHEN ts IS NULL THEN 'unparseable timestamp'
            WHEN instance IS NULL THEN 'missing instance'
            WHEN event IS NULL THEN 'missing event'
            WHEN event NOT IN ('login', 'request', 'logout', 'login_failed', 'restart') THEN 'unknown event'
            WHEN session_id IS NULL AND event IN ('login', 'request', 'logout') THEN 'missing session_id'
            WHEN seats IS NULL OR seats < 1 THEN 'bad seats'
        END AS reject_reason
    FROM typed
)
SELECT
    CAST($file_no AS INTEGER) AS file_no,
    line,
    CASE WHEN reject_reason IS NULL THEN ts END AS ts,
    instance,
    event,
    session_id,
    CAST(seats AS INTEGER) AS seats,
    "user",
    user_type,
    device,
    app,
    auth_flow,
    reason,
    reject_reason,
    CASE WHEN reject_reason IS NOT NULL THEN rtrim(raw, e'\r\n') END AS raw,
    unknown
FROM judged
) TO $path (FORMAT parquet, COMPRESSION lz4_raw)
