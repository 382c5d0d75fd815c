-- audit_session_attributes: one row per session (instance, session_id), numbered.
-- skey numbers the sessions in (instance, session_id) order, so that the event sort of the
-- segmentation orders by one integer instead of two strings. The attributes of rule 3:
-- seats, the largest on any of its events; user, user_type, device, app, auth_flow, the
-- first non-empty value in rule order (ties at one instant: the smallest value);
-- expiry_us, the absolute expiry of its auth flow (NULL when none applies).
-- Reads: events, a_instances, a_policy_expiry (auth_flow, expiry_us). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_sattr AS
WITH ev AS (
    SELECT instance, session_id, ts, seats, "user", user_type, device, app, auth_flow,
           CASE event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS ord
    FROM events
    WHERE event IN ('login', 'request', 'logout') AND session_id IS NOT NULL
),
s AS (
    SELECT instance, session_id,
           CAST(max(seats) AS INTEGER) AS seats,
           arg_min("user", (ts, ord, "user")) FILTER (WHERE "user" IS NOT NULL) AS "user",
           arg_min(user_type, (ts, ord, user_type)) FILTER (WHERE user_type IS NOT NULL) AS user_type,
           arg_min(device, (ts, ord, device)) FILTER (WHERE device IS NOT NULL) AS device,
           arg_min(app, (ts, ord, app)) FILTER (WHERE app IS NOT NULL) AS app,
           arg_min(auth_flow, (ts, ord, auth_flow)) FILTER (WHERE auth_flow IS NOT NULL) AS auth_flow
    FROM ev
    GROUP BY instance, session_id
)
SELECT CAST(row_number() OVER (ORDER BY i.ikey, s.session_id) AS INTEGER) AS skey, i.ikey, s.*, p.expiry_us
FROM s
JOIN a_instances AS i USING (instance)
LEFT JOIN a_policy_expiry AS p USING (auth_flow)
