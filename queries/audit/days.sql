-- days: the local days of each instance on which a counted session was in use (a usage
-- step above zero overlaps the day) or a login was refused, with the UTC instants [d0, d1)
-- that bound them in the instance's time zone (daylight-saving days have 23 or 25 hours).
-- Only such days: the audit's cost follows the data, never the calendar span between two
-- events (an instance idle for years gets no rows for those years).
-- Local dates come from timezone(tz, ts) with tz named explicitly: never from the
-- connection's TimeZone setting.
-- Reads: a_day_steps, a_denials, a_instances, a_day_floor (instance, first_day: an
-- incremental audit computes each re-audited instance's days from its restart day on).
-- Parameters: none.
CREATE OR REPLACE TEMP TABLE a_days AS
WITH marks AS (
    SELECT s.ikey,
           unnest(generate_series(
               CAST(CAST(timezone(i.tz, s.step_start) AS DATE) AS TIMESTAMP),
               CAST(CAST(timezone(i.tz, s.step_end - INTERVAL 1 MICROSECOND) AS DATE) AS TIMESTAMP),
               INTERVAL 1 DAY)) AS local_midnight
    FROM a_day_steps AS s JOIN a_instances AS i USING (ikey)
    UNION
    SELECT d.ikey, CAST(CAST(timezone(i.tz, d.ts) AS DATE) AS TIMESTAMP)
    FROM a_denials AS d JOIN a_instances AS i USING (ikey)
)
SELECT m.ikey, CAST(m.local_midnight AS DATE) AS day,
       timezone(i.tz, m.local_midnight) AS d0,
       timezone(i.tz, m.local_midnight + INTERVAL 1 DAY) AS d1
FROM marks AS m
JOIN a_instances AS i USING (ikey)
LEFT JOIN a_day_floor AS f ON f.instance = i.instance
WHERE f.first_day IS NULL OR CAST(m.local_midnight AS DATE) >= f.first_day
