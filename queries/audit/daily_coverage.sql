-- daily_coverage: per polled instance and local day, how long (microseconds) the polls observed:
-- the instants within $poll_interval_us of a successful poll. Each poll covers [p - interval,
-- p + interval]; consecutive polls at most twice the interval apart join into one island, which
-- is cut into the local days it overlaps. An incremental audit recomputes each re-audited
-- instance's days from its restart day, from the polls from the interval before that day's
-- local midnight d0 on (every poll that covers an instant of the day).
-- Reads: h_polls, a_instances, a_restart_points. Parameters: $poll_interval_us.
CREATE OR REPLACE TEMP TABLE a_daily_coverage AS
WITH ok AS (
    SELECT DISTINCT p.instance, p.polled_at
    FROM h_polls AS p
    JOIN a_instances AS i USING (instance)
    LEFT JOIN a_restart_points AS q USING (instance)
    WHERE p.ok AND (q.d0 IS NULL OR p.polled_at >= q.d0 - to_microseconds(CAST($poll_interval_us AS BIGINT)))
),
marked AS (
    SELECT instance, polled_at,
           CASE WHEN epoch_us(polled_at) - epoch_us(lag(polled_at) OVER w) <= 2 * CAST($poll_interval_us AS BIGINT)
                THEN 0 ELSE 1 END AS opens
    FROM ok
    WINDOW w AS (PARTITION BY instance ORDER BY polled_at)
),
numbered AS (
    SELECT *, sum(opens) OVER (PARTITION BY instance ORDER BY polled_at ROWS UNBOUNDED PRECEDING) AS island
    FROM marked
),
islands AS (
    SELECT instance,
           min(polled_at) - to_microseconds(CAST($poll_interval_us AS BIGINT)) AS a,
           max(polled_at) + to_microseconds(CAST($poll_interval_us AS BIGINT)) AS b
    FROM numbered
    GROUP BY instance, island
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
