-- polled_sessions: the sessions the polls show (the README's rules for polled data), appended to
-- a_sessions. Per instance, a session is one SessionId (old servers: user, StartTime, Device and
-- Applications); its attributes are those the latest poll listing it gave (a_polled_seen). It is
-- the collector's own when its user and applications are those the instance's polls name. It starts at its
-- StartTime (or the first poll listing it, if a clock put that earlier); it was alive at the last
-- poll listing it (end_ts_min) and gone by the next successful poll (end_ts), or by its absolute
-- expiry if that comes first; with no later successful poll, its deadline under the session rules
-- ('open'). The collector's own sessions are kept, never counted. A Login entry of the audit log
-- that no polled session of its user matches (started within $match_us of it) is a session no
-- poll saw: it counts in the upper bound only, until the next successful poll. Sessions starting
-- before their instance's restart point are stored already (the restart point is chosen so that
-- none of them reaches it) and are left out.
-- Reads: a_polled_seen, a_ok_polls, a_polls_in, a_audit_log_in, a_restart_points, a_instances.
-- Parameters: $idle_us, $match_us.
INSERT INTO a_sessions BY NAME
WITH collectors AS (
    SELECT DISTINCT instance, collector_user, collector_application FROM a_polls_in WHERE collector_user IS NOT NULL
),
polled AS (
    SELECT s.instance, s.session_id, s.latest.user AS "user", s.latest.device AS device, s.latest.app AS app,
           s.start_ts, s.last_activity_ts,
           s.last_seen AS end_ts_min,
           CASE WHEN p.next_poll IS NOT NULL
                THEN greatest(s.last_seen, least(p.next_poll, s.expiry_ts))
                ELSE greatest(s.last_seen, least(coalesce(s.last_activity_ts, s.start_ts)
                                                 + to_microseconds(CAST($idle_us AS BIGINT)), s.expiry_ts)) END AS end_ts,
           CASE WHEN p.next_poll IS NULL THEN 'open'
                WHEN s.expiry_ts <= p.next_poll THEN 'absolute_expiry'
                ELSE 'vanished' END AS end_reason,
           EXISTS (SELECT 1 FROM collectors AS c
                   WHERE c.instance = s.instance AND c.collector_user = s.latest.user
                     AND c.collector_application = s.latest.app) AS own
    FROM a_polled_seen AS s
    LEFT JOIN a_ok_polls AS p ON p.instance = s.instance AND p.polled_at = s.last_seen
),
user_starts AS (
    SELECT instance, latest.user AS "user", start_ts FROM a_polled_seen WHERE latest.user IS NOT NULL
),
logins AS (
    -- the earliest start of a polled session of the user from $match_us before the login on
    -- (an ASOF join: one sorted pass, where a range join compares every pair)
    SELECT a.instance, a.id, a.event_time, a."user", a.application_name
    FROM a_audit_log_in AS a
    ASOF LEFT JOIN user_starts AS s
        ON s.instance = a.instance AND s."user" = a."user"
       AND s.start_ts >= a.event_time - to_microseconds(CAST($match_us AS BIGINT))
    WHERE a.event_type = 'Login' AND a."user" IS NOT NULL
      AND (s.start_ts IS NULL OR s.start_ts > a.event_time + to_microseconds(CAST($match_us AS BIGINT)))
      AND NOT EXISTS (SELECT 1 FROM collectors AS c WHERE c.instance = a.instance AND c.collector_user = a."user")
),
unseen AS (
    SELECT l.instance, 'login:' || l.id AS session_id, l."user", CAST(NULL AS VARCHAR) AS device,
           l.application_name AS app, l.event_time AS start_ts, l.event_time AS last_activity_ts,
           l.event_time AS end_ts_min,
           coalesce(n.polled_at, l.event_time + to_microseconds(CAST($idle_us AS BIGINT))) AS end_ts,
           CASE WHEN n.polled_at IS NULL THEN 'open' ELSE 'unseen' END AS end_reason,
           false AS own
    FROM logins AS l
    -- the session may have begun up to $match_us after its logged login: a poll within that window
    -- may not list it yet, so the upper bound runs to the first successful poll after the window
    ASOF LEFT JOIN a_ok_polls AS n
        ON n.instance = l.instance AND n.polled_at > l.event_time + to_microseconds(CAST($match_us AS BIGINT))
),
sessions AS (
    SELECT * FROM polled
    UNION ALL BY NAME
    SELECT * FROM unseen
)
SELECT i.ikey, s.instance, s.session_id, 1 AS segment, s."user", CAST(NULL AS VARCHAR) AS user_type, s.device, s.app,
       CAST(NULL AS VARCHAR) AS auth_flow, 1 AS seats, NOT s.own AS counted,
       s.start_ts, s.end_ts, s.end_reason, false AS start_inferred, s.last_activity_ts,
       CAST(NULL AS BIGINT) AS skey, s.end_ts_min, 'poll' AS source,
       CASE WHEN s.own THEN 'collector' END AS uncounted_reason
FROM sessions AS s
JOIN a_instances AS i USING (instance)
ANTI JOIN a_restart_points AS q ON q.instance = s.instance AND s.start_ts < q.q
