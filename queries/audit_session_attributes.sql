-- audit_session_attributes: per session (instance, session_id) the attributes of rule 3.
-- seats: the largest on any of its events; user, user_type, device, app, auth_flow:
-- the first non-empty value in rule order (ties at one instant: the smallest value);
-- expiry_us: the absolute expiry of its auth flow (NULL when none applies).
-- Reads: events, a_instances, a_policy_expiry (auth_flow, expiry_us). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_sattr AS
WITH ev AS (
    SELECT i.ikey, e.session_id, e.ts, e.seats, e."user", e.user_type, e.device, e.app, e.auth_flow,
           CASE e.event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS ord
    FROM events AS e
    JOIN a_instances AS i USING (instance)
    WHERE e.event IN ('login', 'request', 'logout') AND e.session_id IS NOT NULL
),
s AS (
    SELECT ikey, session_id,
           CAST(max(seats) AS INTEGER) AS seats,
           arg_min("user", (ts, ord, "user")) FILTER (WHERE "user" IS NOT NULL) AS "user",
           arg_min(user_type, (ts, ord, user_type)) FILTER (WHERE user_type IS NOT NULL) AS user_type,
           arg_min(device, (ts, ord, device)) FILTER (WHERE device IS NOT NULL) AS device,
           arg_min(app, (ts, ord, app)) FILTER (WHERE app IS NOT NULL) AS app,
           arg_min(auth_flow, (ts, ord, auth_flow)) FILTER (WHERE auth_flow IS NOT NULL) AS auth_flow
    FROM ev
    GROUP BY ikey, session_id
)
SELECT s.*, p.expiry_us
FROM s
LEFT JOIN a_policy_expiry AS p USING (auth_flow)
