-- findings_parallel: parallel_requests, one finding per polled session and local day in which at least
-- $min_polls successful polls listed it with $min_requests or more requests in progress
-- (CurrentRequestsCount): ERP.net serves one request at a time per session, so parallel requests are
-- one session doing the work of several clients (session multiplexing). The collector's own session is
-- never one. A session is its SessionId, or on old servers its user, StartTime, Device and Applications
-- (session_id is then empty); user and device are those of the day's latest such poll.
-- occurrences: those polls; first_seen, last_seen: the first and last of them; seats_implied: the most
-- requests in progress at once (each would have needed a session of its own); peak_seats_implied: the
-- highest seats in use at one of those polls with the seats_implied - 1 sessions the licence misses.
-- day: the poll's local day (a re-audited instance's polls are read from before its restart day).
-- Reads: a_poll_rows_in, a_polls_in, a_finding_steps, a_restart_points, a_instances.
-- Parameters: $min_requests, $min_polls.
CREATE OR REPLACE TEMP TABLE a_findings_parallel AS
WITH collectors AS (
    SELECT DISTINCT instance, collector_user, collector_application FROM a_polls_in WHERE collector_user IS NOT NULL
),
busy AS (
    SELECT r.instance, r.polled_at, r.current_requests, r."user", r.device,
           coalesce(r.session_id, '') AS session_id,
           CASE WHEN r.session_id IS NULL
                THEN [coalesce(r."user", ''), CAST(r.start_time AS VARCHAR), coalesce(r.device, ''), coalesce(r.applications, '')] END AS old_key,
           CAST(timezone(i.tz, r.polled_at) AS DATE) AS day, i.tz,
           (SELECT max(s.seats_in_use) FROM a_finding_steps AS s
            WHERE s.instance = r.instance AND s.step_start <= r.polled_at AND s.step_end > r.polled_at) AS in_use
    FROM a_poll_rows_in AS r
    JOIN a_instances AS i USING (instance)
    ANTI JOIN a_restart_points AS q ON q.instance = r.instance AND r.polled_at < q.d0
    ANTI JOIN collectors AS c
        ON c.instance = r.instance AND c.collector_user = r."user" AND c.collector_application = r.applications
    WHERE r.current_requests >= CAST($min_requests AS INTEGER)
),
per_day AS (
    SELECT instance, session_id, old_key, day, min(tz) AS tz,
           arg_max("user", polled_at) AS "user", arg_max(device, polled_at) AS device,
           count(*) AS polls, min(polled_at) AS first_seen, max(polled_at) AS last_seen,
           max(current_requests) AS most, max(coalesce(in_use, 0) + current_requests - 1) AS peak
    FROM busy
    GROUP BY instance, session_id, old_key, day
    HAVING count(*) >= CAST($min_polls AS INTEGER)
)
SELECT instance, 'parallel_requests' AS kind, session_id, "user", first_seen, last_seen,
       CAST(polls AS BIGINT) AS occurrences, CAST(most AS BIGINT) AS seats_implied,
       CASE WHEN session_id = '' THEN 'The session' ELSE 'Session ' || session_id END
       || coalesce(' of ' || "user", '') || coalesce(' on ' || device, '')
       || ' had up to ' || CAST(most AS VARCHAR) || ' requests in progress at once in '
       || CAST(polls AS VARCHAR) || ' polls ' || a_finding_span(first_seen, last_seen, tz) AS evidence,
       day, CAST(peak AS BIGINT) AS peak_seats_implied
FROM per_day
