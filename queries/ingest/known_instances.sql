-- known_instances: the instances the warehouse knows without scanning its events:
-- every audited one (instance_summary, one row per instance with events at the last audit)
-- and every one with an entitlement. The instances ingested since the last audit are the
-- keys of the manifest's pending_audit, which the caller adds.
-- Reads: instance_summary, entitlements. Parameters: none.
SELECT instance FROM instance_summary
UNION
SELECT instance FROM entitlements
