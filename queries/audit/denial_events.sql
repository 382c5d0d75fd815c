-- denial_events: the refused logins the days count: login_failed events, and LoginFailed entries
-- of an instance's audit log that name MaximumLicenseCountExceeded (a login refused because every
-- licence slot was taken; other failures are wrong passwords and the like), of the history read,
-- without each instance's before the local midnight d0 of its restart day (that day is
-- recomputed whole; an instance kept whole has d0 = infinity). A full audit has no restart
-- point: every refused login counts.
-- Reads: h_events, h_audit_log, a_restart_points. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_denial_events_in AS
SELECT e.instance, e.ts
FROM (
    SELECT instance, ts FROM h_events WHERE event = 'login_failed'
    UNION ALL
    SELECT instance, event_time FROM h_audit_log
    WHERE event_type = 'LoginFailed' AND details LIKE '%MaximumLicenseCountExceeded%'
) AS e
ANTI JOIN a_restart_points AS q ON q.instance = e.instance AND e.ts < q.d0
