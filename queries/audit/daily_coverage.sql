-- daily_coverage: per polled instance and local day, how long (microseconds) the polls observed:
-- the instants within $poll_interval_us of a successful poll. Each poll covers [p - interval,
-- p + interval]; consecutive polls at most twice the interval apart join into one island (from
-- the interval before its first poll to the interval after its last), which is cut into the local
-- days it overlaps. A re-audited instance's days are recomputed from its restart day on.
-- Reads: a_ok_polls, a_instances, a_restart_points. Parameters: $poll_interval_us.
CREATE OR REPLACE TEMP TABLE a_daily_coverage AS
WITH marked AS (
    SELECT instance, polled_at,
           prev_poll IS NULL OR gap_before AS opens,
           next_poll IS NULL OR gap_after AS closes
    FROM a_ok_polls
),
firsts AS (
    SELECT instance, polled_at AS first_poll, row_number() OVER (PARTITION BY instance ORDER BY polled_at) AS k
    FROM marked WHERE opens
),
lasts AS (
    SELECT instance, polled_at AS last_poll, row_number() OVER (PARTITION BY instance ORDER BY polled_at) AS k
    FROM marked WHERE closes
),
islands AS (
    SELECT instance,
           f.first_poll - to_microseconds(CAST($poll_interval_us AS BIGINT)) AS a,
           l.last_poll + to_microseconds(CAST($poll_interval_us AS BIGINT)) AS b
    FROM firsts AS f JOIN lasts AS l USING (instance, k)
),
island_days AS (
    SELECT s.instance, s.a, s.b, i.tz,
           unnest(generate_series(
               CAST(CAST(timezone(i.tz, s.a) AS DATE) AS TIMESTAMP),
               CAST(CAST(timezone(i.tz, s.b - INTERVAL 1 MICROSECOND) AS DATE) AS TIMESTAMP),
               INTERVAL 1 DAY)) AS local_midnight
    FROM islands AS s JOIN a_instances AS i USING (instance)
),
clipped AS (
    SELECT instance, CAST(local_midnight AS DATE) AS day,
           epoch_us(least(b, timezone(tz, local_midnight + INTERVAL 1 DAY)))
             - epoch_us(greatest(a, timezone(tz, local_midnight))) AS us
    FROM island_days
)
SELECT c.instance, c.day, CAST(sum(c.us) AS BIGINT) AS covered_us
FROM clipped AS c
LEFT JOIN a_restart_points AS q USING (instance)
WHERE q.q_day IS NULL OR c.day >= q.q_day
GROUP BY c.instance, c.day
