-- findings_cycling: logout_cycling, one finding per user, device and local day with at least $min_cycles
-- cycles: a logout of a counted segment followed, within $gap_us, by the user's next login on the same
-- device (strictly later: at one instant a login comes before a logout), while the instance's seats in
-- use just before the logout were at or above its seat limit. Re-logins after a longer pause, those on an
-- instance with room to spare, and expiring service sessions (they write no logout) are not cycles.
-- User and device are the event's, else its session's. A cycle belongs to the local day of its login
-- (a re-audited instance's restart point is at or before the login whenever either event is new).
-- occurrences: the cycles; first_seen: the first logout, last_seen: the last login; seats_implied 1: the
-- session the user kept using, which the licence counts through each gap; peak_seats_implied: the
-- highest seats in use during a gap, plus that session.
-- Reads: a_finding_events, a_finding_segments, a_finding_steps, a_restart_points, a_instances.
-- Parameters: $gap_us, $min_cycles.
CREATE OR REPLACE TEMP TABLE a_findings_cycling AS
WITH raw AS (
    SELECT instance, ts, event, session_id, "user", device FROM a_finding_events WHERE event IN ('login', 'logout')
),
flagged AS (
    -- a superset of the cycles' ends, from the events alone, so that only these meet their segments:
    -- the logouts with a login on the instance within the gap after them (strictly later: EXCLUDE
    -- GROUP leaves the instant's own rows out), the logins with a logout within the gap before them.
    -- One sorted pass per instance for both (two ASOF joins sorted each side again).
    SELECT *,
           count(*) FILTER (WHERE event = 'login') OVER (
               PARTITION BY instance ORDER BY ts
               RANGE BETWEEN CURRENT ROW AND to_microseconds(CAST($gap_us AS BIGINT)) FOLLOWING EXCLUDE GROUP) AS logins_after,
           count(*) FILTER (WHERE event = 'logout') OVER (
               PARTITION BY instance ORDER BY ts
               RANGE BETWEEN to_microseconds(CAST($gap_us AS BIGINT)) PRECEDING AND CURRENT ROW EXCLUDE GROUP) AS logouts_before
    FROM raw
),
near_ends AS MATERIALIZED (
    SELECT instance, ts, event, session_id, "user", device
    FROM flagged
    WHERE (event = 'logout' AND logins_after > 0) OR (event = 'login' AND logouts_before > 0)
),
ends AS (
    -- the segments of those sessions alone: the ASOF join sorts what it is given
    SELECT e.instance, e.ts, e.event, coalesce(e."user", s."user") AS "user", coalesce(e.device, s.device) AS device
    FROM near_ends AS e
    ASOF JOIN (SELECT * FROM a_finding_segments SEMI JOIN near_ends USING (instance, session_id)) AS s
        ON s.instance = e.instance AND s.session_id = e.session_id AND e.ts >= s.start_ts
    WHERE e.ts <= s.end_ts AND s.counted
),
logouts AS (
    SELECT * FROM ends WHERE event = 'logout' AND "user" IS NOT NULL AND device IS NOT NULL
),
logins AS (
    SELECT instance, ts AS login_ts, "user", device FROM ends WHERE event = 'login' AND "user" IS NOT NULL AND device IS NOT NULL
),
cycles AS (
    SELECT o.instance, o."user", o.device, o.ts AS logout_ts, n.login_ts
    FROM logouts AS o
    ASOF JOIN logins AS n
        ON n.instance = o.instance AND n."user" = o."user" AND n.device = o.device AND n.login_ts > o.ts
    WHERE n.login_ts <= o.ts + to_microseconds(CAST($gap_us AS BIGINT))
),
full_before AS (
    SELECT c.*, i.tz, CAST(timezone(i.tz, c.login_ts) AS DATE) AS day,
           (SELECT max(s.seats_in_use) FROM a_finding_steps AS s
            WHERE s.instance = c.instance AND s.step_start < c.login_ts AND s.step_end > c.logout_ts) AS gap_in_use
    FROM cycles AS c
    JOIN a_instances AS i USING (instance)
    ANTI JOIN a_restart_points AS q ON q.instance = c.instance AND c.login_ts < q.d0
    WHERE EXISTS (SELECT 1 FROM a_finding_steps AS s
                  WHERE s.instance = c.instance AND s.step_start < c.logout_ts AND s.step_end >= c.logout_ts
                    AND s.seat_limit IS NOT NULL AND s.seats_in_use >= s.seat_limit)
),
per_day AS (
    SELECT instance, "user", device, day, min(tz) AS tz, count(*) AS n,
           min(logout_ts) AS first_seen, max(login_ts) AS last_seen,
           max(coalesce(gap_in_use, 0)) + 1 AS peak
    FROM full_before
    GROUP BY instance, "user", device, day
    HAVING count(*) >= CAST($min_cycles AS INTEGER)
)
SELECT instance, 'logout_cycling' AS kind, '' AS session_id, "user", first_seen, last_seen,
       CAST(n AS BIGINT) AS occurrences, CAST(1 AS BIGINT) AS seats_implied,
       "user" || ' on ' || device || ' logged out and back in within '
       || CAST(CAST($gap_us AS BIGINT) // 1000000 AS VARCHAR) || ' s ' || CAST(n AS VARCHAR) || ' times '
       || a_finding_span(first_seen, last_seen, tz) || ', each time with the instance at or above its seat limit'
       AS evidence,
       day, CAST(peak AS BIGINT) AS peak_seats_implied
FROM per_day
