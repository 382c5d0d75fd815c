-- audit_instance_summary: one row per instance for the audited period [from, to) in the
-- instance's local time (by default from the local day of its first event to the end of
-- the local day of its last one).
-- p95_seats: the smallest v with seats_in_use <= v during at least 95% of the period's
-- time in use (seats_in_use > 0); recommended_seat_limit: the smallest limit under which
-- the period's time over the limit would not exceed $tolerance_us (so by default the
-- peak). The entitlement shown is the latest one in force during the period; without one
-- the instance is 'unlicensed'. Both ratios are computed on integer microseconds.
-- Reads: a_instances, a_steps, a_breaches, a_denials, a_ent.
-- Parameters: $period_from, $period_to (DATE or NULL), $tolerance_us (BIGINT).
CREATE OR REPLACE TEMP TABLE a_summary AS
WITH periods AS (
    SELECT ikey, instance, tz,
           timezone(tz, CAST(coalesce(CAST($period_from AS DATE), CAST(timezone(tz, first_ts) AS DATE)) AS TIMESTAMP))
               AS period_start,
           timezone(tz, CAST(coalesce(CAST($period_to AS DATE), CAST(timezone(tz, last_ts) AS DATE) + 1) AS TIMESTAMP))
               AS period_end
    FROM a_instances
),
clipped AS (
    SELECT s.ikey, greatest(s.step_start, q.period_start) AS a, least(s.step_end, q.period_end) AS b,
           s.seats_in_use, s.seat_limit
    FROM a_steps AS s JOIN periods AS q USING (ikey)
    WHERE s.step_start < q.period_end AND s.step_end > q.period_start
),
hist AS (
    SELECT ikey, seats_in_use AS level, CAST(sum(epoch_us(b) - epoch_us(a)) AS BIGINT) AS us
    FROM clipped GROUP BY ikey, seats_in_use
),
cumulative AS (
    SELECT ikey, level,
           sum(us) OVER (PARTITION BY ikey ORDER BY level ROWS UNBOUNDED PRECEDING) AS cum_us,
           sum(us) OVER (PARTITION BY ikey) AS total_us
    FROM hist
),
levels AS (
    SELECT ikey,
           min(level) FILTER (WHERE cum_us * 100 >= total_us * 95) AS p95_seats,
           CASE WHEN any_value(total_us) <= CAST($tolerance_us AS BIGINT) THEN 0
                ELSE min(level) FILTER (WHERE total_us - cum_us <= CAST($tolerance_us AS BIGINT)) END AS recommended
    FROM cumulative GROUP BY ikey
),
usage AS (
    SELECT ikey, max(seats_in_use) AS peak_seats,
           arg_min(a, (-seats_in_use, a)) AS peak_at,
           CAST(sum(CASE WHEN seat_limit IS NOT NULL AND seats_in_use > seat_limit
                         THEN epoch_us(b) - epoch_us(a) ELSE 0 END) AS BIGINT) AS over_us
    FROM clipped GROUP BY ikey
),
breach_counts AS (
    SELECT b.ikey, count(*) AS breach_count
    FROM a_breaches AS b JOIN periods AS q USING (ikey)
    WHERE b.breach_start >= q.period_start AND b.breach_start < q.period_end
    GROUP BY b.ikey
),
denial_counts AS (
    SELECT d.ikey, count(*) AS denials
    FROM a_denials AS d JOIN periods AS q USING (ikey)
    WHERE d.ts >= q.period_start AND d.ts < q.period_end
    GROUP BY d.ikey
),
entitled AS (
    SELECT e.ikey,
           arg_max(e.customer, e.valid_from_ts) AS customer,
           arg_max(e.plan, e.valid_from_ts) AS plan,
           arg_max(e.seat_limit, e.valid_from_ts) AS seat_limit,
           arg_max(e.plan_maximum, e.valid_from_ts) AS plan_maximum,
           arg_max(e.seat_limit - e.extra_sessions, e.valid_from_ts) AS base_sessions
    FROM a_ent AS e JOIN periods AS q USING (ikey)
    WHERE e.valid_from_ts < q.period_end AND (e.valid_to_ts IS NULL OR e.valid_to_ts > q.period_start)
    GROUP BY e.ikey
),
joined AS (
    SELECT q.ikey, q.instance, q.tz, q.period_start, q.period_end,
           e.customer, e.plan, e.seat_limit, e.plan_maximum, e.base_sessions,
           coalesce(u.peak_seats, 0) AS peak_seats,
           CASE WHEN coalesce(u.peak_seats, 0) > 0 THEN u.peak_at END AS peak_at,
           coalesce(l.p95_seats, 0) AS p95_seats,
           coalesce(u.over_us, 0) AS over_us,
           coalesce(b.breach_count, 0) AS breach_count,
           coalesce(n.denials, 0) AS denials,
           coalesce(l.recommended, 0) AS recommended
    FROM periods AS q
    LEFT JOIN usage AS u USING (ikey)
    LEFT JOIN levels AS l USING (ikey)
    LEFT JOIN breach_counts AS b USING (ikey)
    LEFT JOIN denial_counts AS n USING (ikey)
    LEFT JOIN entitled AS e USING (ikey)
)
SELECT ikey, instance, customer, plan, tz AS timezone, period_start, period_end,
       CAST(seat_limit AS INTEGER) AS seat_limit,
       CAST(plan_maximum AS INTEGER) AS plan_maximum,
       CAST(peak_seats AS INTEGER) AS peak_seats,
       peak_at,
       CAST(p95_seats AS INTEGER) AS p95_seats,
       over_us / 1e6 AS seconds_over_limit,
       CAST(breach_count AS INTEGER) AS breach_count,
       CAST(denials AS INTEGER) AS denials,
       CASE WHEN seat_limit IS NULL THEN 'unlicensed'
            WHEN peak_seats > plan_maximum THEN 'beyond_plan_maximum'
            WHEN breach_count > 0 OR over_us > 0 THEN 'breach'
            ELSE 'compliant' END AS status,
       CAST(recommended AS INTEGER) AS recommended_seat_limit,
       CAST(CASE WHEN seat_limit IS NOT NULL THEN greatest(recommended - base_sessions, 0) END AS INTEGER)
           AS recommended_extra_sessions,
       CASE WHEN seat_limit IS NOT NULL THEN recommended <= plan_maximum END AS fits_plan_maximum
FROM joined
