-- audit_instances: one row per instance with events, with an integer key and its time zone.
-- The integer key (ikey) is what every sort of the audit orders by: sorting by the
-- host name instead costs 2-4x. The time zone is that of the instance's latest
-- entitlement (by valid_from), UTC for an instance with none.
-- first_ts / last_ts: the instance's earliest and latest event (the default audit period).
-- Reads: a_events_in, a_entitlements_in (the resolved entitlements). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_instances AS
WITH names AS (SELECT instance, min(ts) AS first_ts, max(ts) AS last_ts FROM a_events_in GROUP BY instance),
zones AS (
    SELECT instance, arg_max(timezone, valid_from_ts) AS tz
    FROM a_entitlements_in
    GROUP BY instance
)
SELECT CAST(row_number() OVER (ORDER BY n.instance) AS INTEGER) AS ikey,
       n.instance, n.first_ts, n.last_ts,
       coalesce(z.tz, 'UTC') AS tz
FROM names AS n
LEFT JOIN zones AS z USING (instance)
ORDER BY ikey
