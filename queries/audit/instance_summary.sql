-- instance_summary: one row per instance for the audited period [from, to) in the
-- instance's local time (by default from the local day of its first event to the end of
-- the local day of its last one: a_period_days), computed from per-day aggregates only
-- (a_summary_daily: daily_usage rows; a_summary_levels: daily_levels rows), so that an
-- incremental audit needs no history scan and gets the same numbers.
-- p95_seats: the smallest v with seats_in_use <= v during at least 95% of the period's
-- time in use (seats_in_use > 0); recommended_seat_limit: the smallest limit under which
-- the period's time over the limit would not exceed $tolerance_us (so by default the
-- peak). Both on integer microseconds. The entitlement shown is the latest one in force
-- during the period; without one the instance is 'unlicensed'.
-- Reads: a_instances, a_period_days, a_summary_daily, a_summary_levels, a_ent.
-- Parameters: $period_from, $period_to (DATE or NULL), $tolerance_us (BIGINT).
CREATE OR REPLACE TEMP TABLE a_summary AS
WITH periods AS (
    SELECT i.ikey, i.instance, i.tz,
           coalesce(CAST($period_from AS DATE), p.first_day) AS from_day,
           coalesce(CAST($period_to AS DATE), p.last_day + 1) AS to_day
    FROM a_instances AS i
    JOIN a_period_days AS p USING (instance)
),
bounds AS (
    SELECT *, timezone(tz, CAST(from_day AS TIMESTAMP)) AS period_start,
              timezone(tz, CAST(to_day AS TIMESTAMP)) AS period_end
    FROM periods
),
days AS (
    SELECT q.ikey, d.*
    FROM a_summary_daily AS d
    JOIN bounds AS q ON q.instance = d.instance AND d.day >= q.from_day AND d.day < q.to_day
),
hist AS (
    SELECT q.ikey, l.seats_in_use AS level, sum(l.in_use_us) AS us
    FROM a_summary_levels AS l
    JOIN bounds AS q ON q.instance = l.instance AND l.day >= q.from_day AND l.day < q.to_day
    GROUP BY q.ikey, l.seats_in_use
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
    SELECT ikey, max(peak_seats) AS peak_seats,
           arg_min(peak_at, (-peak_seats, peak_at)) AS peak_at,
           -- seconds_over_limit holds whole microseconds / 1e6: summed back as integers
           sum(CAST(round(seconds_over_limit * 1e6) AS BIGINT)) AS over_us,
           sum(breach_count) AS breach_count,
           sum(denials) AS denials
    FROM days GROUP BY ikey
),
entitled AS (
    SELECT e.ikey,
           arg_max(e.customer, e.valid_from_ts) AS customer,
           arg_max(e.plan, e.valid_from_ts) AS plan,
           arg_max(e.seat_limit, e.valid_from_ts) AS seat_limit,
           arg_max(e.plan_maximum, e.valid_from_ts) AS plan_maximum,
           arg_max(e.seat_limit - e.extra_sessions, e.valid_from_ts) AS base_sessions
    FROM a_ent AS e JOIN bounds AS q USING (ikey)
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
           coalesce(u.breach_count, 0) AS breach_count,
           coalesce(u.denials, 0) AS denials,
           coalesce(l.recommended, 0) AS recommended
    FROM bounds AS q
    LEFT JOIN usage AS u USING (ikey)
    LEFT JOIN levels AS l USING (ikey)
    LEFT JOIN entitled AS e USING (ikey)
)
SELECT ikey, instance, customer, plan, tz AS timezone, period_start, period_end,
       CAST(seat_limit AS INTEGER) AS seat_limit,
       CAST(plan_maximum AS INTEGER) AS plan_maximum,
       CAST(peak_seats AS BIGINT) AS peak_seats,
       peak_at,
       CAST(p95_seats AS BIGINT) AS p95_seats,
       CAST(over_us AS BIGINT) / 1e6 AS seconds_over_limit,
       CAST(breach_count AS INTEGER) AS breach_count,
       CAST(denials AS INTEGER) AS denials,
       CASE WHEN seat_limit IS NULL THEN 'unlicensed'
            WHEN peak_seats > plan_maximum THEN 'beyond_plan_maximum'
            WHEN breach_count > 0 OR over_us > 0 THEN 'breach'
            ELSE 'compliant' END AS status,
       CAST(recommended AS BIGINT) AS recommended_seat_limit,
       CAST(CASE WHEN seat_limit IS NOT NULL THEN greatest(recommended - base_sessions, 0) END AS BIGINT)
           AS recommended_extra_sessions,
       CASE WHEN seat_limit IS NOT NULL THEN recommended <= plan_maximum END AS fits_plan_maximum
FROM joined
