-- events_in: the events the audit works from: the history read (h_events) without each
-- instance's events before its restart point (a_restart_points: instance, q). A full audit
-- has no restart point: every event counts. An incremental one restarts each re-audited
-- instance at its q and keeps every other instance whole (q = infinity).
-- An anti join with an empty restart table costs nothing, so a full audit pays no filter.
-- Reads: h_events, a_restart_points. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_events_in AS
SELECT e.*
FROM h_events AS e
ANTI JOIN a_restart_points AS q ON q.instance = e.instance AND e.ts < q.q
