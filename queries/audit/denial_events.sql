-- denial_events: the refused logins the days count: login_failed events of the history read,
-- without each instance's before the local midnight d0 of its restart day (that day is
-- recomputed whole; an instance kept whole has d0 = infinity). A full audit has no restart
-- point: every refused login counts.
-- Reads: h_events, a_restart_points. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_denial_events_in AS
SELECT e.*
FROM h_events AS e
ANTI JOIN a_restart_points AS q ON q.instance = e.instance AND e.ts < q.d0
WHERE e.event = 'login_failed'
