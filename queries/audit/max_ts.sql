-- max_ts: the latest event time in the warehouse: the latest the last audit saw ($before, NULL
-- for a full audit) or the latest this audit reads, whichever is later. A segment whose
-- deadline lies beyond it ends 'open'.
-- Reads: a_instances. Parameters: $before (TIMESTAMPTZ or NULL).
SELECT greatest(CAST($before AS TIMESTAMPTZ), max(last_ts)) FROM a_instances
