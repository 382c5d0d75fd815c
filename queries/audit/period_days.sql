-- period_days: each audited instance's first and last local day with an event (the default
-- period of instance_summary): from the events this audit read and, for an instance audited
-- before, its stored summary (whose default period spans exactly those days).
-- Reads: a_instances, h_instance_summary. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_period_days AS
WITH stored AS (
    SELECT s.instance,
           CAST(timezone(i.tz, s.period_start) AS DATE) AS first_day,
           CAST(timezone(i.tz, s.period_end) AS DATE) - 1 AS last_day
    FROM h_instance_summary AS s
    JOIN a_instances AS i USING (instance)
)
SELECT i.instance,
       least(CAST(timezone(i.tz, i.first_ts) AS DATE), s.first_day) AS first_day,
       greatest(CAST(timezone(i.tz, i.last_ts) AS DATE), s.last_day) AS last_day
FROM a_instances AS i
LEFT JOIN stored AS s USING (instance)
