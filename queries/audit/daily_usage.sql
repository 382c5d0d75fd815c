-- daily_usage: one row per instance and local day (a_days).
-- Pieces come cut into days (a_piece_days). peak_at: the first instant of the day at the day's peak (the
-- day's start when the peak was already reached then); NULL when the peak is 0.
-- seat_limit: the limit in force at the day's end (at its last instant).
-- peak_seats_min, seconds_over_limit_min: the lower bound's peak and time over the limit.
-- seconds_over_limit, seconds_at_limit: time within the day above, and exactly at, the limit in
-- force; seconds_unlicensed: time in use within the day with no entitlement in force;
-- breach_count: breaches that start that day; in_breach_at_start: the day begins inside a breach
-- that started before it (so the breaches overlapping a range of days are those starting in it,
-- plus one if its first day has this); certain_breach_count, in_certain_breach_at_start: the same
-- for the certain breaches; denials: login_failed events that day; sessions /
-- distinct_users / distinct_devices: over counted segments (of positive length) overlapping the day.
-- Reads: a_piece_days, a_days, a_day_sessions, a_day_breaches, a_denials, a_ent, a_instances.
-- (a_day_*: this audit's rows, and for an incremental one also the kept rows of its first day.)
-- Parameters: none.
CREATE OR REPLACE TEMP TABLE a_daily AS
WITH peaks AS (
    SELECT ikey, day,
           max(seats_in_use) AS peak_seats,
           max(seats_in_use_min) AS peak_seats_min,
           sum(CASE WHEN seat_limit IS NOT NULL AND seats_in_use_min > seat_limit
                    THEN epoch_us(b) - epoch_us(a) ELSE 0 END) AS over_min_us,
           arg_min(a, (-seats_in_use, step_start)) AS peak_at,
           sum(CASE WHEN seat_limit IS NOT NULL AND seats_in_use > seat_limit
                    THEN epoch_us(b) - epoch_us(a) ELSE 0 END) AS over_us,
           sum(CASE WHEN seats_in_use = seat_limit THEN epoch_us(b) - epoch_us(a) ELSE 0 END) AS at_limit_us,
           sum(CASE WHEN seat_limit IS NULL THEN epoch_us(b) - epoch_us(a) ELSE 0 END) AS unlicensed_us
    FROM a_piece_days
    GROUP BY ikey, day
),
session_days AS (
    SELECT s.ikey, s."user", s.device,
           CAST(unnest(generate_series(
               CAST(CAST(timezone(i.tz, s.start_ts) AS DATE) AS TIMESTAMP),
               CAST(CAST(timezone(i.tz, s.end_ts - INTERVAL 1 MICROSECOND) AS DATE) AS TIMESTAMP),
               INTERVAL 1 DAY)) AS DATE) AS day
    FROM a_day_sessions AS s JOIN a_instances AS i USING (ikey)
    WHERE s.counted AND s.end_ts > s.start_ts
),
session_counts AS (
    SELECT ikey, day, count(*) AS sessions,
           count(DISTINCT "user") AS distinct_users, count(DISTINCT device) AS distinct_devices
    FROM session_days
    GROUP BY ikey, day
),
breach_counts AS (
    SELECT b.ikey, CAST(timezone(i.tz, b.breach_start) AS DATE) AS day, count(*) AS breach_count,
           count(*) FILTER (WHERE b.certain) AS certain_breach_count
    FROM a_day_breaches AS b JOIN a_instances AS i USING (ikey)
    GROUP BY ALL
),
breach_carried AS (
    -- the local days after a breach's first one, up to the one holding its last instant
    SELECT b.ikey, CAST(unnest(generate_series(
               CAST(CAST(timezone(i.tz, b.breach_start) AS DATE) + 1 AS TIMESTAMP),
               CAST(CAST(timezone(i.tz, b.breach_end - INTERVAL 1 MICROSECOND) AS DATE) AS TIMESTAMP),
               INTERVAL 1 DAY)) AS DATE) AS day, b.certain
    FROM a_day_breaches AS b JOIN a_instances AS i USING (ikey)
),
carried AS (
    SELECT ikey, day, bool_or(certain) AS certain FROM breach_carried GROUP BY ikey, day
),
denial_counts AS (
    SELECT d.ikey, CAST(timezone(i.tz, d.ts) AS DATE) AS day, count(*) AS denials
    FROM a_denials AS d JOIN a_instances AS i USING (ikey)
    GROUP BY ALL
),
limits AS (
    SELECT d.ikey, d.day,
           CASE WHEN e.valid_to_ts IS NULL OR e.valid_to_ts >= d.d1 THEN e.seat_limit END AS seat_limit
    FROM a_days AS d
    ASOF LEFT JOIN a_ent AS e ON e.ikey = d.ikey AND e.valid_from_ts < d.d1
)
SELECT d.ikey, i.instance, d.day, d.d0, d.d1,
       CAST(coalesce(p.peak_seats, 0) AS BIGINT) AS peak_seats,
       CASE WHEN coalesce(p.peak_seats, 0) > 0 THEN p.peak_at END AS peak_at,
       CAST(l.seat_limit AS INTEGER) AS seat_limit,
       coalesce(CAST(p.over_us AS BIGINT), 0) / 1e6 AS seconds_over_limit,
       coalesce(CAST(p.at_limit_us AS BIGINT), 0) / 1e6 AS seconds_at_limit,
       coalesce(CAST(p.unlicensed_us AS BIGINT), 0) / 1e6 AS seconds_unlicensed,
       CAST(coalesce(b.breach_count, 0) AS INTEGER) AS breach_count,
       c.day IS NOT NULL AS in_breach_at_start,
       CAST(coalesce(n.denials, 0) AS INTEGER) AS denials,
       CAST(coalesce(s.sessions, 0) AS INTEGER) AS sessions,
       CAST(coalesce(s.distinct_users, 0) AS INTEGER) AS distinct_users,
       CAST(coalesce(s.distinct_devices, 0) AS INTEGER) AS distinct_devices,
       CAST(coalesce(p.peak_seats_min, 0) AS BIGINT) AS peak_seats_min,
       coalesce(CAST(p.over_min_us AS BIGINT), 0) / 1e6 AS seconds_over_limit_min,
       CAST(coalesce(b.certain_breach_count, 0) AS INTEGER) AS certain_breach_count,
       coalesce(c.certain, false) AS in_certain_breach_at_start
FROM a_days AS d
JOIN a_instances AS i USING (ikey)
LEFT JOIN peaks AS p USING (ikey, day)
LEFT JOIN session_counts AS s USING (ikey, day)
LEFT JOIN breach_counts AS b USING (ikey, day)
LEFT JOIN carried AS c USING (ikey, day)
LEFT JOIN denial_counts AS n USING (ikey, day)
LEFT JOIN limits AS l USING (ikey, day)
