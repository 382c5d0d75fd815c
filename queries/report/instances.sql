-- instances: every audited instance with what its reports' headers need.
-- One row per instance of instance_summary: customer, plan and time zone as the audit saw them, and the
-- account manager of its latest entitlement (NULL when it has none).
-- Parameters: none.
SELECT
    s.instance,
    s.customer,
    s.plan,
    s.timezone,
    s.plan_maximum,
    s.period_start,
    s.period_end,
    (SELECT e.account_manager FROM entitlements e
      WHERE e.instance = s.instance AND e.account_manager IS NOT NULL AND e.account_manager <> ''
      ORDER BY e.valid_from DESC LIMIT 1) AS account_manager
FROM instance_summary s
ORDER BY s.instance
