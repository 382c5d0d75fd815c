-- audit_max_ts: the latest event time in the warehouse (a full audit reads all events):
-- a segment whose deadline lies beyond it ends 'open'.
-- Reads: a_instances. Parameters: none.
SELECT max(last_ts) FROM a_instances
