-- findings_shared: shared_session_devices and shared_session_users, one finding per log segment whose
-- events name two or more different devices (users), more than the seats the segment holds (an
-- application declaring 3 seats may name 3 users). Absent values do not count; neither do segments
-- that are not counted nor, for users, events of an uncounted user type (virtual users).
-- The events are walked in rule order (ts, login < request < logout, then the value): occurrences is
-- how often the value changed from one event to the next, first_seen the first change (the first event
-- naming a second value), last_seen the segment's last event naming one; user is the session's. seats_implied is the number of
-- values: each device (user) would have held a session of its own. peak_seats_implied: the highest seats
-- in use while it was shared ([first_seen, last_seen]) with the seats_implied - seats sessions the
-- licence misses. day: the local day the segment started (a segment is recomputed whole or kept whole).
-- Only sessions whose events name two values are walked (few), and only their segments are sorted for
-- the ASOF join: the rest cost one grouping.
-- Reads: a_finding_events, a_finding_segments, a_finding_steps, a_restart_points, a_instances.
-- Parameters: $uncounted (user types that never count).
CREATE OR REPLACE TEMP TABLE a_findings_shared AS
WITH candidates AS MATERIALIZED (
    -- a superset: virtual users are left out below, on the few candidates' events only
    SELECT instance, session_id
    FROM a_finding_events
    GROUP BY instance, session_id
    HAVING min(device) <> max(device) OR min("user") <> max("user")
),
candidate_events AS MATERIALIZED (
    SELECT e.* FROM a_finding_events AS e SEMI JOIN candidates AS c ON c.instance = e.instance AND c.session_id = e.session_id
),
ev AS (
    SELECT e.instance, e.session_id, e.ts, e.ord, e.device,
           CASE WHEN NOT list_contains(CAST($uncounted AS VARCHAR[]), coalesce(e.user_type, '')) THEN e."user" END AS "user",
           s.segment, s.start_ts, s.end_ts, s.seats, s."user" AS segment_user
    FROM candidate_events AS e
    ASOF JOIN (SELECT * FROM a_finding_segments SEMI JOIN candidates USING (instance, session_id)) AS s
        ON s.instance = e.instance AND s.session_id = e.session_id AND e.ts >= s.start_ts
    WHERE e.ts <= s.end_ts AND s.counted
),
vals AS (
    SELECT instance, session_id, segment, start_ts, seats, segment_user, ts, ord, 'shared_session_devices' AS kind, device AS value
    FROM ev WHERE device IS NOT NULL
    UNION ALL
    SELECT instance, session_id, segment, start_ts, seats, segment_user, ts, ord, 'shared_session_users', "user"
    FROM ev WHERE "user" IS NOT NULL
),
walked AS (
    SELECT *, lag(value) OVER (PARTITION BY instance, session_id, segment, kind ORDER BY ts, ord, value) AS prev
    FROM vals
),
per_segment AS (
    SELECT instance, kind, session_id, segment, min(start_ts) AS start_ts, min(seats) AS seats, min(segment_user) AS segment_user,
           list_sort(list(DISTINCT value)) AS names,
           count(*) FILTER (WHERE value <> prev) AS changes,
           min(ts) FILTER (WHERE value <> prev) AS first_seen,
           max(ts) AS last_seen
    FROM walked
    GROUP BY instance, kind, session_id, segment
),
found AS (
    SELECT f.*, i.tz, CAST(timezone(i.tz, f.start_ts) AS DATE) AS day
    FROM per_segment AS f
    JOIN a_instances AS i USING (instance)
    ANTI JOIN a_restart_points AS q ON q.instance = f.instance AND f.start_ts < q.d0
    WHERE len(f.names) >= 2 AND len(f.names) > f.seats
)
SELECT f.instance, f.kind, f.session_id, f.segment_user AS "user", f.first_seen, f.last_seen,
       CAST(f.changes AS BIGINT) AS occurrences, CAST(len(f.names) AS BIGINT) AS seats_implied,
       'Session ' || f.session_id
       || CASE WHEN f.kind = 'shared_session_devices' THEN ' was used from the devices ' ELSE ' was used by the users ' END
       || a_finding_names(f.names) || ': '
       || CASE WHEN f.kind = 'shared_session_devices' THEN 'the device' ELSE 'the user' END
       || ' changed ' || CAST(f.changes AS VARCHAR) || CASE WHEN f.changes = 1 THEN ' time ' ELSE ' times ' END
       || a_finding_span(f.first_seen, f.last_seen, f.tz) AS evidence,
       f.day,
       coalesce((SELECT max(s.seats_in_use) FROM a_finding_steps AS s
                 WHERE s.instance = f.instance AND s.step_start <= f.last_seen AND s.step_end > f.first_seen), 0)
       + len(f.names) - f.seats AS peak_seats_implied
FROM found AS f
