-- audit_days: every local day of each instance, from its first to its last day with a
-- counted session (of positive length) or a denial, with the UTC instants [d0, d1) that
-- bound it in the instance's time zone (daylight-saving days have 23 or 25 hours).
-- Local dates come from timezone(tz, ts) with tz named explicitly: never from the
-- connection's TimeZone setting.
-- Reads: a_day_sessions, a_denials, a_instances, a_day_floor (instance, first_day). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_days AS
WITH marks AS (
    SELECT s.ikey, CAST(timezone(i.tz, s.start_ts) AS DATE) AS day
    FROM a_day_sessions AS s JOIN a_instances AS i USING (ikey)
    WHERE s.counted AND s.end_ts > s.start_ts
    UNION ALL
    SELECT s.ikey, CAST(timezone(i.tz, s.end_ts - INTERVAL 1 MICROSECOND) AS DATE)
    FROM a_day_sessions AS s JOIN a_instances AS i USING (ikey)
    WHERE s.counted AND s.end_ts > s.start_ts
    UNION ALL
    SELECT d.ikey, CAST(timezone(i.tz, d.ts) AS DATE)
    FROM a_denials AS d JOIN a_instances AS i USING (ikey)
),
spans AS (
    -- an incremental audit recomputes days from its floor (the day after the last one it
    -- keeps), filling any gap up to the first active day it recomputes
    SELECT m.ikey, coalesce(any_value(f.first_day), min(m.day)) AS first_day, max(m.day) AS last_day
    FROM marks AS m
    JOIN a_instances AS i USING (ikey)
    LEFT JOIN a_day_floor AS f ON f.instance = i.instance
    GROUP BY m.ikey
),
days AS (
    SELECT s.ikey, i.tz,
           unnest(generate_series(CAST(s.first_day AS TIMESTAMP), CAST(s.last_day AS TIMESTAMP), INTERVAL 1 DAY)) AS local_midnight
    FROM spans AS s JOIN a_instances AS i USING (ikey)
)
SELECT ikey, CAST(local_midnight AS DATE) AS day,
       timezone(tz, local_midnight) AS d0,
       timezone(tz, local_midnight + INTERVAL 1 DAY) AS d1
FROM days
