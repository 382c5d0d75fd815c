-- instances: one row per instance with events, polls or audit-log entries to audit, with an
-- integer key and its time zone.
-- The integer key (ikey) is what every sort of the audit orders by: sorting by the host name
-- instead is several times slower. first_ts / last_ts: its earliest and latest event, poll or entry read.
-- Reads: a_events_in, a_polls_in, a_audit_log_in, a_instance_zones. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_instances AS
WITH names AS (
    SELECT instance, min(ts) AS first_ts, max(ts) AS last_ts
    FROM (
        SELECT instance, ts FROM a_events_in
        UNION ALL
        SELECT instance, polled_at FROM a_polls_in
        UNION ALL
        SELECT instance, event_time FROM a_audit_log_in
    )
    GROUP BY instance
)
SELECT CAST(row_number() OVER (ORDER BY n.instance) AS INTEGER) AS ikey,
       n.instance, n.first_ts, n.last_ts,
       coalesce(z.tz, 'UTC') AS tz
FROM names AS n
LEFT JOIN a_instance_zones AS z USING (instance)
ORDER BY ikey
