-- audit_session_attributes: one row per session (instance, session_id), numbered.
-- skey numbers the sessions in (instance, session_id) order, so that the event sort of the
-- segmentation orders by one integer instead of two strings. The attributes of rule 3:
-- seats, the largest on any of its events; user, user_type, device, app, auth_flow, the
-- first non-empty value in rule order (ties at one instant: the smallest value), each with
-- its key epoch_us(ts) * 4 + event order, so that stored state and new events merge to the
-- same answer (a_session_state_in: the stored state of the sessions being re-audited, empty
-- for a full audit); expiry_us, the absolute expiry of its auth flow (NULL when none);
-- segments_before: how many of its segments an incremental audit keeps (numbering goes on).
-- Reads: a_events_in, a_session_state_in, a_instances, a_policy_expiry. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_sattr AS
WITH ev AS (
    SELECT instance, session_id, ts AS first_ts, seats,
           "user", user_type, device, app, auth_flow,
           epoch_us(ts) * 4 + CASE event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS k
    FROM a_events_in
    WHERE event IN ('login', 'request', 'logout') AND session_id IS NOT NULL
),
parts AS (
    SELECT instance, session_id, first_ts, seats,
           "user", CASE WHEN "user" IS NOT NULL THEN k END AS user_key,
           user_type, CASE WHEN user_type IS NOT NULL THEN k END AS user_type_key,
           device, CASE WHEN device IS NOT NULL THEN k END AS device_key,
           app, CASE WHEN app IS NOT NULL THEN k END AS app_key,
           auth_flow, CASE WHEN auth_flow IS NOT NULL THEN k END AS auth_flow_key
    FROM ev
    UNION ALL
    SELECT instance, session_id, first_ts, seats, "user", user_key, user_type, user_type_key,
           device, device_key, app, app_key, auth_flow, auth_flow_key
    FROM a_session_state_in
),
before AS (
    -- segments an incremental audit keeps (they start before the restart point)
    SELECT instance, session_id, segments_before FROM a_session_state_in
),
s AS (
    SELECT instance, session_id,
           min(first_ts) AS first_ts,
           CAST(max(seats) AS INTEGER) AS seats,
           arg_min("user", (user_key, "user")) FILTER (WHERE "user" IS NOT NULL) AS "user",
           min(user_key) AS user_key,
           arg_min(user_type, (user_type_key, user_type)) FILTER (WHERE user_type IS NOT NULL) AS user_type,
           min(user_type_key) AS user_type_key,
           arg_min(device, (device_key, device)) FILTER (WHERE device IS NOT NULL) AS device,
           min(device_key) AS device_key,
           arg_min(app, (app_key, app)) FILTER (WHERE app IS NOT NULL) AS app,
           min(app_key) AS app_key,
           arg_min(auth_flow, (auth_flow_key, auth_flow)) FILTER (WHERE auth_flow IS NOT NULL) AS auth_flow,
           min(auth_flow_key) AS auth_flow_key
    FROM parts
    GROUP BY instance, session_id
)
SELECT CAST(row_number() OVER (ORDER BY i.ikey, s.session_id) AS INTEGER) AS skey, i.ikey, s.*, p.expiry_us,
       CAST(coalesce(b.segments_before, 0) AS INTEGER) AS segments_before
FROM s
JOIN a_instances AS i USING (instance)
LEFT JOIN a_policy_expiry AS p USING (auth_flow)
LEFT JOIN before AS b USING (instance, session_id)
