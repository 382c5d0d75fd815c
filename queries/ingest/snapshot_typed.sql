-- snapshot_typed: every element of `rows` of the snapshot lines being staged, typed and judged.
-- Defines the table macro snapshot_typed(audit_sets, not_before, not_after): the statements that judge
-- the lines (snapshot_rows.sql) and take their sessions and entries (snapshot_sessions.sql,
-- snapshot_entries.sql) each read it, so the typed rows are never stored whole. audit_sets VARCHAR[]:
-- the entity sets whose rows are audit-log entries (every other line's rows are sessions of the
-- live-sessions view); not_before, not_after TIMESTAMPTZ: the window every instant must lie in (as for
-- log events).
-- Reads the Arrow table `snapshot_batch_rows` that ingest registers: one row per element of `rows` of
-- the snapshot lines that parsed (file_no, line, entity_set of its line, i its place in `rows` from 1,
-- and r the element as JSON gave it, NULL for a JSON null). Uses the macros of queries/ingest/instant.sql.
-- Parameters: none (the macro's arguments instead).
-- Returns file_no, line, i, audit, the session or audit-log columns (text trimmed, empty meaning absent;
-- instants in UTC), and problem: NULL for a good row, else why it is bad (the line is then rejected whole).
-- A session's user is UserLogin, or User on servers before 26.1.4.3.
CREATE OR REPLACE TEMP MACRO snapshot_typed(audit_sets, not_before, not_after) AS TABLE
WITH unnested AS (
    SELECT file_no, line, list_contains(audit_sets, entity_set) AS audit, r, i
    FROM snapshot_batch_rows
),
typed AS (
    SELECT
        file_no, line, i, audit,
        r IS NULL AS not_object,
        nullif(trim_if_padded(r.SessionId), '') AS session_id,
        coalesce(nullif(trim_if_padded(r.UserLogin), ''), nullif(trim_if_padded(r."User"), '')) AS "user",
        r.StartTime AS start_text,
        ingest_instant(r.StartTime) AS start_time,
        r.LastRequestTime AS last_request_text,
        ingest_instant(r.LastRequestTime) AS last_request_time,
        r.AbsoluteExpirationTime AS expiration_text,
        ingest_instant(r.AbsoluteExpirationTime) AS absolute_expiration_time,
        nullif(trim_if_padded(r.Applications), '') AS applications,
        nullif(trim_if_padded(r.Device), '') AS device,
        r.CurrentRequestsCount AS current_requests,
        r.TotalRequestsCount AS total_requests,
        r.DownloadMB AS download_mb,
        r.UploadMB AS upload_mb,
        nullif(trim_if_padded(r.Id), '') AS id,
        r.EventTimeUtc AS event_text,
        ingest_instant(r.EventTimeUtc) AS event_time,
        nullif(trim_if_padded(r.EventClass), '') AS event_class,
        nullif(trim_if_padded(r.EventType), '') AS event_type,
        nullif(trim_if_padded(r.ApplicationName), '') AS application_name,
        nullif(trim_if_padded(r.Details), '') AS details
    FROM unnested
)
SELECT
    * EXCLUDE (not_object, start_text, last_request_text, expiration_text, event_text),
    CASE
        WHEN not_object THEN 'not an object'
        WHEN audit THEN coalesce(
            CASE WHEN id IS NULL THEN 'no Id' WHEN event_text IS NULL THEN 'no EventTimeUtc' END,
            instant_problem('EventTimeUtc', event_text, event_time, not_before, not_after))
        ELSE coalesce(
            CASE WHEN start_text IS NULL THEN 'no StartTime' END,
            instant_problem('StartTime', start_text, start_time, not_before, not_after),
            instant_problem('LastRequestTime', last_request_text, last_request_time, not_before, not_after),
            instant_problem('AbsoluteExpirationTime', expiration_text, absolute_expiration_time, not_before, not_after),
            CASE
                WHEN current_requests < 0 OR current_requests > 2147483647 THEN 'CurrentRequestsCount out of range'
                WHEN total_requests < 0 THEN 'TotalRequestsCount out of range'
                -- NaN and infinities included (JSON has none, but a lenient writer may write them)
                WHEN download_mb < 0 OR NOT isfinite(download_mb) THEN 'DownloadMB out of range'
                WHEN upload_mb < 0 OR NOT isfinite(upload_mb) THEN 'UploadMB out of range'
            END)
    END AS problem
FROM typed;
