-- summary_periods: the verdict's periods for instance_summary (v_periods, see audit/verdict): per
-- audited instance, [from, to) in its local time, by default from the local day of its first
-- event to the end of the local day of its last one (a_period_days).
-- Reads: a_instances, a_period_days. Parameters: $period_from, $period_to (DATE or NULL).
CREATE OR REPLACE TEMP TABLE v_periods AS
WITH days AS (
    SELECT i.instance, i.tz AS timezone,
           coalesce(CAST($period_from AS DATE), p.first_day) AS first_day,
           coalesce(CAST($period_to AS DATE), p.last_day + 1) AS end_day
    FROM a_instances AS i
    JOIN a_period_days AS p USING (instance)
)
SELECT instance, timezone, first_day, end_day,
       timezone(timezone, CAST(first_day AS TIMESTAMP)) AS period_start,
       timezone(timezone, CAST(end_day AS TIMESTAMP)) AS period_end
FROM days
