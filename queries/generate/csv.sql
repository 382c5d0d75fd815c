-- csv: write generated connection-log events as CSV with a header row.
-- Reads the Arrow table that auditor.generate registers as `log_events`
-- (ts TIMESTAMP holding UTC, instance, event, session_id BIGINT, seats, user, user_type,
-- device, app, auth_flow, reason). An absent field is an empty cell. ts is
-- written as exports often write it: a space for the T and no offset (UTC).
-- The rows come in time order and are written in that order.
-- Parameters: $path, the file to write; its extension (.gz, .zst) picks the compression.
COPY (
    SELECT
        strftime(ts, '%Y-%m-%d %H:%M:%S.%f') AS ts,
        instance::VARCHAR AS instance,
        event::VARCHAR AS event,
        lpad(lower(to_hex(session_id)), 16, '0') AS session_id,
        seats,
        "user"::VARCHAR AS "user",
        user_type::VARCHAR AS user_type,
        device::VARCHAR AS device,
        app::VARCHAR AS app,
        auth_flow::VARCHAR AS auth_flow,
        reason::VARCHAR AS reason
    FROM log_events
) TO $path (FORMAT csv, HEADER true);
