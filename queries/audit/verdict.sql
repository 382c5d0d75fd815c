-- verdict: each instance's verdict on a period, from per-day facts only. The one statement of the
-- rules for both its callers: the audit (instance_summary, over the audited period) and the report
-- (each report's period). Reads the relations its caller defines:
--   v_periods(instance, timezone, first_day, end_day, period_start, period_end): one row per instance;
--     the period is the local days [first_day, end_day), the instants [period_start, period_end);
--   v_daily: daily_usage rows (instance, day, peak_seats, peak_at, seconds_over_limit, seconds_at_limit,
--     seconds_unlicensed, breach_count, in_breach_at_start, denials, peak_seats_min, seconds_over_limit_min,
--     certain_breach_count, in_certain_breach_at_start);
--   v_levels: daily_levels rows (instance, day, seats_in_use, in_use_us);
--   v_entitlements(instance, customer, plan, extra_sessions, seat_limit, plan_maximum, valid_from_ts, valid_to_ts);
--   v_coverage(instance, day, covered_seconds): daily_coverage rows, for the polled instances only;
--   v_finding_days(instance, day, peak_seats_implied): one row per licence-term finding, by its local day.
-- The entitlement judged against is the latest one in force during the period; without one the
-- instance is 'unlicensed'. breach_count: the breaches overlapping the period (those starting in
-- it, and one in progress at its start), certain_breach_count those of them the lower bound too
-- shows (all of them for logs): a certain one makes the status 'breach', only uncertain ones
-- 'possible_breach'; 'beyond_plan_maximum' when even the lower bound's peak exceeds the plan's
-- maximum. coverage: for a polled instance (one with daily_coverage rows), the share of the period
-- within the polling interval of a successful poll; 1.0 for the others. limit_reached: seats in use
-- equalled the limit in force at some instant. p95_seats: the smallest v with seats_in_use <= v
-- during at least 95% of the time in use. recommended_seat_limit: the smallest limit under which
-- the time over it would not exceed $tolerance_us (by default the peak); recommended_extra_sessions:
-- the add-ons that limit means on the plan; sessions_to_add: how many more than the current limit;
-- fits_plan_maximum: whether the plan can have it. Durations summed as integer microseconds.
-- The recommendation and p95 come from the upper bound (daily_levels). findings: the licence-term
-- findings of the period; peak_seats_implied: the peak had each been counted as the licence says, the
-- counted peak or a finding's own peak_seats_implied where higher (each finding is judged on its own:
-- two findings of one segment, its devices and its users, describe the same sessions and are not added up).
-- Parameters: $tolerance_us (BIGINT).
CREATE OR REPLACE TEMP TABLE v_verdict AS
WITH days AS (
    SELECT d.*, d.day = p.first_day AS first_of_period
    FROM v_daily AS d
    JOIN v_periods AS p ON p.instance = d.instance AND d.day >= p.first_day AND d.day < p.end_day
),
hist AS (
    SELECT l.instance, l.seats_in_use AS level, sum(l.in_use_us) AS us
    FROM v_levels AS l
    JOIN v_periods AS p ON p.instance = l.instance AND l.day >= p.first_day AND l.day < p.end_day
    GROUP BY l.instance, l.seats_in_use
),
cumulative AS (
    SELECT instance, level,
           sum(us) OVER (PARTITION BY instance ORDER BY level ROWS UNBOUNDED PRECEDING) AS cum_us,
           sum(us) OVER (PARTITION BY instance) AS total_us
    FROM hist
),
levels AS (
    SELECT instance,
           any_value(total_us) AS in_use_us,
           min(level) FILTER (WHERE cum_us * 100 >= total_us * 95) AS p95_seats,
           CASE WHEN any_value(total_us) <= CAST($tolerance_us AS BIGINT) THEN 0
                ELSE min(level) FILTER (WHERE total_us - cum_us <= CAST($tolerance_us AS BIGINT)) END AS recommended
    FROM cumulative GROUP BY instance
),
usage AS (
    SELECT instance, max(peak_seats) AS peak_seats,
           arg_min(peak_at, (-peak_seats, peak_at)) AS peak_at,
           -- the seconds columns hold whole microseconds / 1e6: summed back as integers
           sum(CAST(round(seconds_over_limit * 1e6) AS BIGINT)) AS over_us,
           sum(CAST(round(seconds_at_limit * 1e6) AS BIGINT)) AS at_limit_us,
           sum(CAST(round(seconds_unlicensed * 1e6) AS BIGINT)) AS unlicensed_us,
           sum(breach_count) + count(*) FILTER (WHERE first_of_period AND in_breach_at_start) AS breach_count,
           max(peak_seats_min) AS peak_seats_min,
           sum(CAST(round(seconds_over_limit_min * 1e6) AS BIGINT)) AS over_min_us,
           sum(certain_breach_count) + count(*) FILTER (WHERE first_of_period AND in_certain_breach_at_start)
               AS certain_breach_count,
           sum(denials) AS denials
    FROM days GROUP BY instance
),
covered AS (
    SELECT p.instance,
           sum(CASE WHEN c.day >= p.first_day AND c.day < p.end_day
                    THEN CAST(round(c.covered_seconds * 1e6) AS BIGINT) ELSE 0 END) AS us
    FROM v_coverage AS c JOIN v_periods AS p USING (instance)
    GROUP BY p.instance
),
found AS (
    SELECT p.instance, count(*) AS findings, max(f.peak_seats_implied) AS peak_seats_implied
    FROM v_finding_days AS f
    JOIN v_periods AS p ON p.instance = f.instance AND f.day >= p.first_day AND f.day < p.end_day
    GROUP BY p.instance
),
entitled AS (
    SELECT e.instance,
           arg_max(e.customer, e.valid_from_ts) AS customer,
           arg_max(e.plan, e.valid_from_ts) AS plan,
           arg_max(e.seat_limit, e.valid_from_ts) AS seat_limit,
           arg_max(e.plan_maximum, e.valid_from_ts) AS plan_maximum,
           arg_max(e.seat_limit - e.extra_sessions, e.valid_from_ts) AS base_sessions
    FROM v_entitlements AS e JOIN v_periods AS p USING (instance)
    WHERE e.valid_from_ts < p.period_end AND (e.valid_to_ts IS NULL OR e.valid_to_ts > p.period_start)
    GROUP BY e.instance
),
joined AS (
    SELECT p.instance, p.timezone, p.period_start, p.period_end,
           e.customer, e.plan, e.seat_limit, e.plan_maximum, e.base_sessions,
           coalesce(u.peak_seats, 0) AS peak_seats,
           CASE WHEN coalesce(u.peak_seats, 0) > 0 THEN u.peak_at END AS peak_at,
           coalesce(l.p95_seats, 0) AS p95_seats,
           coalesce(l.in_use_us, 0) AS in_use_us,
           coalesce(u.over_us, 0) AS over_us,
           coalesce(u.at_limit_us, 0) AS at_limit_us,
           coalesce(u.unlicensed_us, 0) AS unlicensed_us,
           coalesce(u.breach_count, 0) AS breach_count,
           coalesce(u.peak_seats_min, 0) AS peak_seats_min,
           coalesce(u.over_min_us, 0) AS over_min_us,
           coalesce(u.certain_breach_count, 0) AS certain_breach_count,
           CASE WHEN c.instance IS NULL THEN 1.0
                ELSE c.us / greatest(epoch_us(p.period_end) - epoch_us(p.period_start), 1) END AS coverage,
           coalesce(u.denials, 0) AS denials,
           coalesce(l.recommended, 0) AS recommended,
           coalesce(x.findings, 0) AS findings,
           greatest(coalesce(u.peak_seats, 0), coalesce(x.peak_seats_implied, 0)) AS peak_seats_implied
    FROM v_periods AS p
    LEFT JOIN usage AS u USING (instance)
    LEFT JOIN levels AS l USING (instance)
    LEFT JOIN entitled AS e USING (instance)
    LEFT JOIN covered AS c USING (instance)
    LEFT JOIN found AS x USING (instance)
)
SELECT instance, customer, plan, timezone, period_start, period_end,
       CAST(seat_limit AS INTEGER) AS seat_limit,
       CAST(plan_maximum AS INTEGER) AS plan_maximum,
       CAST(peak_seats AS BIGINT) AS peak_seats,
       peak_at,
       CAST(p95_seats AS BIGINT) AS p95_seats,
       CAST(in_use_us AS BIGINT) / 1e6 AS seconds_in_use,
       CAST(over_us AS BIGINT) / 1e6 AS seconds_over_limit,
       CAST(unlicensed_us AS BIGINT) / 1e6 AS seconds_unlicensed,
       CAST(breach_count AS INTEGER) AS breach_count,
       CAST(denials AS INTEGER) AS denials,
       at_limit_us > 0 AS limit_reached,
       CASE WHEN seat_limit IS NULL THEN 'unlicensed'
            WHEN peak_seats_min > plan_maximum THEN 'beyond_plan_maximum'
            WHEN certain_breach_count > 0 THEN 'breach'
            WHEN breach_count > 0 THEN 'possible_breach'
            ELSE 'compliant' END AS status,
       CAST(recommended AS BIGINT) AS recommended_seat_limit,
       CAST(CASE WHEN seat_limit IS NOT NULL THEN greatest(recommended - base_sessions, 0) END AS BIGINT)
           AS recommended_extra_sessions,
       CAST(CASE WHEN seat_limit IS NOT NULL THEN greatest(recommended - seat_limit, 0) END AS BIGINT)
           AS sessions_to_add,
       CASE WHEN seat_limit IS NOT NULL THEN recommended <= plan_maximum END AS fits_plan_maximum,
       CAST(peak_seats_min AS BIGINT) AS peak_seats_min,
       CAST(over_min_us AS BIGINT) / 1e6 AS seconds_over_limit_min,
       CAST(certain_breach_count AS INTEGER) AS certain_breach_count,
       CAST(coverage AS DOUBLE) AS coverage,
       CAST(findings AS INTEGER) AS findings,
       CAST(peak_seats_implied AS BIGINT) AS peak_seats_implied
FROM joined
