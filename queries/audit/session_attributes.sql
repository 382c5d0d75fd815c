-- session_attributes: one row per session (instance, session_id), numbered.
-- skey numbers the sessions in (instance, session_id) order, so that the segmentation
-- partitions the events by one integer instead of two strings (and the rows it writes come
-- out nearly in the order the output files are sorted in). The attributes of rule 3:
-- seats, the largest on any of its events; user, user_type, device, app, auth_flow, the
-- first non-empty value in rule order (ties at one instant: the smallest value), each with
-- its key epoch_us(ts) * 4 + event order, so that stored state and new events merge to the
-- same answer (a_session_state_in: the stored state of the sessions being re-audited, empty
-- for a full audit); expiry_us, the absolute expiry of its auth flow (NULL when none);
-- segments_before: how many of its segments an incremental audit keeps (numbering goes on);
-- last_ts: the latest of its events read here (a restart after it cannot split it).
-- "First value, smallest on ties" is min({k, v}) over the non-empty values: structs compare
-- field by field, so one aggregate does what arg_min(v, (k, v)) plus min(k) would do in two
-- (and a FILTER, not a CASE per row, leaves the empty values out).
-- Reads: a_events_in, a_session_state_in, a_instances, a_policy_expiry. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_sattr AS
WITH ev AS (
    SELECT instance, session_id, ts, seats, "user", user_type, device, app, auth_flow,
           epoch_us(ts) * 4 + CASE event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS k
    FROM a_events_in
    WHERE event IN ('login', 'request', 'logout') AND session_id IS NOT NULL
),
parts AS (
    SELECT instance, session_id, ts AS first_ts, ts AS last_ts, seats,
           {'k': k, 'v': "user"} AS user_kv,
           {'k': k, 'v': user_type} AS user_type_kv,
           {'k': k, 'v': device} AS device_kv,
           {'k': k, 'v': app} AS app_kv,
           {'k': k, 'v': auth_flow} AS auth_flow_kv
    FROM ev
    UNION ALL
    SELECT instance, session_id, first_ts, NULL, seats,
           CASE WHEN "user" IS NOT NULL THEN {'k': user_key, 'v': "user"} END,
           CASE WHEN user_type IS NOT NULL THEN {'k': user_type_key, 'v': user_type} END,
           CASE WHEN device IS NOT NULL THEN {'k': device_key, 'v': device} END,
           CASE WHEN app IS NOT NULL THEN {'k': app_key, 'v': app} END,
           CASE WHEN auth_flow IS NOT NULL THEN {'k': auth_flow_key, 'v': auth_flow} END
    FROM a_session_state_in
),
before AS (
    -- segments an incremental audit keeps (they start before the restart point)
    SELECT instance, session_id, segments_before FROM a_session_state_in
),
agg AS (
    SELECT instance, session_id,
           min(first_ts) AS first_ts,
           max(last_ts) AS last_ts,
           CAST(max(seats) AS INTEGER) AS seats,
           min(user_kv) FILTER (WHERE user_kv.v IS NOT NULL) AS user_kv,
           min(user_type_kv) FILTER (WHERE user_type_kv.v IS NOT NULL) AS user_type_kv,
           min(device_kv) FILTER (WHERE device_kv.v IS NOT NULL) AS device_kv,
           min(app_kv) FILTER (WHERE app_kv.v IS NOT NULL) AS app_kv,
           min(auth_flow_kv) FILTER (WHERE auth_flow_kv.v IS NOT NULL) AS auth_flow_kv
    FROM parts
    GROUP BY instance, session_id
),
s AS (
    SELECT instance, session_id, first_ts, last_ts, seats,
           user_kv.v AS "user", user_kv.k AS user_key,
           user_type_kv.v AS user_type, user_type_kv.k AS user_type_key,
           device_kv.v AS device, device_kv.k AS device_key,
           app_kv.v AS app, app_kv.k AS app_key,
           auth_flow_kv.v AS auth_flow, auth_flow_kv.k AS auth_flow_key
    FROM agg
)
SELECT CAST(row_number() OVER (ORDER BY i.ikey, s.session_id) AS INTEGER) AS skey, i.ikey, s.*, p.expiry_us,
       CAST(coalesce(b.segments_before, 0) AS INTEGER) AS segments_before
FROM s
JOIN a_instances AS i USING (instance)
LEFT JOIN a_policy_expiry AS p USING (auth_flow)
LEFT JOIN before AS b USING (instance, session_id)
