-- audit_stored_entitlements: the entitlements loaded by an earlier audit.
-- Reads: entitlements. Parameters: none.
SELECT * FROM entitlements ORDER BY instance, valid_from_ts
