-- summary_entitlements: the entitlements instance_summary's verdict judges against (v_entitlements,
-- see audit/verdict): those of the audited instances.
-- Reads: a_ent. Parameters: none.
CREATE OR REPLACE TEMP VIEW v_entitlements AS
SELECT instance, customer, plan, extra_sessions, seat_limit, plan_maximum, valid_from_ts, valid_to_ts
FROM a_ent
