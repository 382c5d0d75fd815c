-- verdict_entitlements: the entitlements the verdict judges each report's period against
-- (v_entitlements, see audit/verdict): those the audit stored.
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_entitlements AS
SELECT instance, customer, plan, extra_sessions, seat_limit, plan_maximum, valid_from_ts, valid_to_ts
FROM entitlements
