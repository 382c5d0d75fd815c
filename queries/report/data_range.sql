-- data_range: the instants the warehouse's data covers, for choosing the default report period.
-- first_ts / last_ts: the earliest and latest event or poll of any instance, clipped to the audited
-- period (the union of instance_summary's periods) when an audit has run.
-- Parameters: none.
WITH logged AS (
    SELECT min(ts) AS first_ts, max(ts) AS last_ts FROM events
), polled AS (
    SELECT min(polled_at) AS first_ts, max(polled_at) AS last_ts FROM polls
), ev AS (
    -- least and greatest skip NULLs: a warehouse of logs only, or of polls only
    SELECT least(logged.first_ts, polled.first_ts) AS first_ts, greatest(logged.last_ts, polled.last_ts) AS last_ts
    FROM logged, polled
), audited AS (
    SELECT min(period_start) AS period_start, max(period_end) AS period_end FROM instance_summary
)
SELECT
    CASE WHEN audited.period_start IS NULL THEN ev.first_ts ELSE greatest(ev.first_ts, audited.period_start) END AS first_ts,
    CASE WHEN audited.period_end IS NULL THEN ev.last_ts ELSE least(ev.last_ts, audited.period_end) END AS last_ts
FROM ev, audited
