-- jsonl: write generated connection-log events as JSON Lines, one event per line.
-- Reads the Arrow table that auditor.generate registers as `log_events`
-- (ts TIMESTAMP holding UTC, instance, event, session_id BIGINT, seats, user, user_type,
-- device, app, auth_flow, reason). Absent fields are left out of the line, as
-- real exports do. ts is written as an ISO-8601 UTC instant with microseconds and Z.
-- The lines are built here and written as a one-column, unquoted CSV: DuckDB's
-- own JSON writer would write every absent field as null.
-- The rows come in time order and are written in that order.
-- Parameters: $path, the file to write; its extension (.gz, .zst) picks the compression.
COPY (
    SELECT concat(
        '{"ts":"', strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'),
        '","instance":', to_json(instance::VARCHAR),
        ',"event":"', event::VARCHAR, '"',
        coalesce(',"session_id":"' || lpad(lower(to_hex(session_id)), 16, '0') || '"', ''),
        coalesce(',"seats":' || seats::VARCHAR, ''),
        coalesce(',"user":' || to_json("user"::VARCHAR), ''),
        coalesce(',"user_type":' || to_json(user_type::VARCHAR), ''),
        coalesce(',"device":' || to_json(device::VARCHAR), ''),
        coalesce(',"app":' || to_json(app::VARCHAR), ''),
        coalesce(',"auth_flow":' || to_json(auth_flow::VARCHAR), ''),
        coalesce(',"reason":' || to_json(reason::VARCHAR), ''),
        '}'
    ) AS line
    FROM log_events
) TO $path (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t');
