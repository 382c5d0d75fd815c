-- entitlements: the entitlements of audited instances, keyed by ikey, in UTC instants.
-- Reads: a_entitlements_in, a_instances. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_ent AS
SELECT i.ikey, e.instance, e.customer, e.plan, e.extra_sessions, e.seat_limit, e.plan_maximum,
       e.valid_from_ts, e.valid_to_ts
FROM a_entitlements_in AS e
JOIN a_instances AS i USING (instance)
ORDER BY i.ikey, e.valid_from_ts
