-- entitlements: the entitlement rows in force during each instance's report period, in time order,
-- so that a report can show the seat limit and its changes within the period.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day),
-- registered by the caller (in the DuckDB CLI: CREATE TEMP TABLE report_scope AS ...).
-- Parameters: none.
SELECT
    e.instance,
    e.customer,
    e.plan,
    e.extra_sessions,
    e.seat_limit,
    e.plan_maximum,
    e.valid_from,
    e.valid_to,
    e.valid_from_ts,
    e.valid_to_ts,
    e.account_manager
FROM report_scope s
JOIN entitlements e
  ON e.instance = s.instance
 AND e.valid_from_ts < s.period_end
 AND (e.valid_to_ts IS NULL OR e.valid_to_ts > s.period_start)
ORDER BY e.instance, e.valid_from_ts
