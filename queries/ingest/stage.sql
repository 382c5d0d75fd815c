-- stage: validate and normalise one batch of lines (ingest keeps the rows as a staged Arrow table).
-- Reads the table macro `ingest_fields` (queries/ingest/fields_jsonl.sql or fields_csv.sql) and the
-- macro ingest_instant (queries/ingest/instant.sql).
-- The batch may hold lines of several input files, each line with its file's number (file_no).
-- Parameters: $guard BOOLEAN — passed to ingest_fields (false: malformed JSON fails the statement);
-- $trim BOOLEAN — false when the reader saw that no field of the batch starts or ends with a space;
-- $not_before, $not_after TIMESTAMPTZ — the window an event's ts must lie in (an instant outside it
-- is a clock gone wrong, and would make later stages pay for every day in between);
-- $max_seats INTEGER — the largest seat weight of one session.
-- Returns one row per line that is not blank: file_no, line, the event's 11 normalised columns, and for
-- a rejected line its reject_reason (NULL for a valid event) and raw text (without its line break);
-- `unknown` lists field names outside the contract (JSON Lines only); h hashes a valid event.
-- Normalisation (the identity duplicates are judged by): ts a UTC instant in microseconds (digits
-- past the microsecond are cut); instance trimmed and lower-case; event lower-case; text fields
-- trimmed, empty meaning absent; user_type upper-case and auth_flow lower-case, as ERP.net writes
-- them; seats 1 when absent. Values are trimmed only when they start or end with a space (trimming
-- every value builds a new string each time), and the test is skipped when $trim says no value
-- can need it.
WITH cleaned AS (
    SELECT
        file_no,
        line,
        raw,
        parse_error,
        (CASE WHEN $trim AND (starts_with(ts, ' ') OR ends_with(ts, ' ')) THEN trim(ts) ELSE ts END) AS ts_text,
        nullif(lower((CASE WHEN $trim AND (starts_with(instance, ' ') OR ends_with(instance, ' ')) THEN trim(instance) ELSE instance END)), '') AS instance,
        nullif(lower((CASE WHEN $trim AND (starts_with(event, ' ') OR ends_with(event, ' ')) THEN trim(event) ELSE event END)), '') AS event,
        nullif((CASE WHEN $trim AND (starts_with(session_id, ' ') OR ends_with(session_id, ' ')) THEN trim(session_id) ELSE session_id END), '') AS session_id,
        nullif((CASE WHEN $trim AND (starts_with(seats, ' ') OR ends_with(seats, ' ')) THEN trim(seats) ELSE seats END), '') AS seats_text,
        nullif((CASE WHEN $trim AND (starts_with("user", ' ') OR ends_with("user", ' ')) THEN trim("user") ELSE "user" END), '') AS "user",
        nullif(upper((CASE WHEN $trim AND (starts_with(user_type, ' ') OR ends_with(user_type, ' ')) THEN trim(user_type) ELSE user_type END)), '') AS user_type,
        nullif((CASE WHEN $trim AND (starts_with(device, ' ') OR ends_with(device, ' ')) THEN trim(device) ELSE device END), '') AS device,
        nullif((CASE WHEN $trim AND (starts_with(app, ' ') OR ends_with(app, ' ')) THEN trim(app) ELSE app END), '') AS app,
        nullif(lower((CASE WHEN $trim AND (starts_with(auth_flow, ' ') OR ends_with(auth_flow, ' ')) THEN trim(auth_flow) ELSE auth_flow END)), '') AS auth_flow,
        nullif((CASE WHEN $trim AND (starts_with(reason, ' ') OR ends_with(reason, ' ')) THEN trim(reason) ELSE reason END), '') AS reason,
        unknown
    FROM ingest_fields($guard)
),
typed AS (
    SELECT
        *,
        ingest_instant(ts_text) AS ts,
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
            WHEN ts < $not_before THEN 'timestamp too old'
            WHEN ts > $not_after THEN 'timestamp in the future'
            WHEN instance IS NULL THEN 'missing instance'
            WHEN event IS NULL THEN 'missing event'
            WHEN event NOT IN ('login', 'request', 'logout', 'login_failed', 'restart') THEN 'unknown event'
            WHEN session_id IS NULL AND event IN ('login', 'request', 'logout') THEN 'missing session_id'
            WHEN seats IS NULL OR seats < 1 THEN 'bad seats'
            WHEN seats > $max_seats THEN 'seats above ' || CAST($max_seats AS VARCHAR)
        END AS reject_reason
    FROM typed
),
staged AS (
    SELECT
        file_no,
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
)
SELECT
    *,
    -- the event's identity, hashed (as queries/ingest/merge_partition.sql hashes it): when no two
    -- events of a date share a hash, the date holds no duplicate and ingest skips that statement
    CASE WHEN reject_reason IS NULL
         THEN hash(ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason)
    END AS h
FROM staged
