-- instance_zones: each instance's time zone, the one its days are counted in: that of its
-- latest entitlement (by valid_from). An instance with none is counted in UTC (the readers
-- of this view fall back to 'UTC').
-- Reads: a_entitlements_in (the resolved entitlements). Parameters: none.
CREATE OR REPLACE TEMP VIEW a_instance_zones AS
SELECT instance, arg_max(timezone, valid_from_ts) AS tz
FROM a_entitlements_in
GROUP BY instance
