-- restart_points: where an incremental audit restarts each instance (a_restart_points: instance,
-- q, q_day, d0). The re-audited instances (a_restart_from) restart at their q: its local day
-- q_day is recomputed whole, from its local midnight d0. Every other instance with events, polls or audit-log entries in
-- the history read is kept whole (q, q_day and d0 infinite): none of its rows is recomputed.
-- A full audit has no restart point (an empty a_restart_points): it keeps nothing.
-- Reads: a_restart_from, h_events, h_polls, h_audit_log, a_instance_zones. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_restart_points AS
WITH kept_whole AS (
    SELECT instance FROM (
        SELECT instance FROM h_events UNION SELECT instance FROM h_polls UNION SELECT instance FROM h_audit_log
    ) ANTI JOIN a_restart_from AS r USING (instance)
),
local AS (
    SELECT r.instance, r.q, coalesce(z.tz, 'UTC') AS tz, CAST(timezone(coalesce(z.tz, 'UTC'), r.q) AS DATE) AS q_day
    FROM a_restart_from AS r
    LEFT JOIN a_instance_zones AS z USING (instance)
)
SELECT instance, q, q_day, timezone(tz, CAST(q_day AS TIMESTAMP)) AS d0 FROM local
UNION ALL
SELECT instance, CAST('infinity' AS TIMESTAMPTZ), CAST('infinity' AS DATE), CAST('infinity' AS TIMESTAMPTZ) FROM kept_whole
