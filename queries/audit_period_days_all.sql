-- audit_period_days_all: each instance's first and last local day with an event (a full
-- audit's default period), and the summary's inputs: this audit's own per-day tables.
-- Reads: a_instances. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_period_days AS
SELECT instance,
       CAST(timezone(tz, first_ts) AS DATE) AS first_day,
       CAST(timezone(tz, last_ts) AS DATE) AS last_day
FROM a_instances
