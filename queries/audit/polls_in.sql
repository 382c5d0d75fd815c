-- polls_in: the polls, the sessions they listed and the audit-log entries the audit works from:
-- the history read without each re-audited instance's before its a_poll_from instant and
-- without the instances kept whole. A full audit has no restart point: everything counts.
-- Reads: h_polls, h_polled_sessions, h_audit_log, a_poll_from. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_polls_in AS
SELECT p.*
FROM h_polls AS p
ANTI JOIN a_poll_from AS f ON f.instance = p.instance AND (f.kept_whole OR p.polled_at < f.t0);

CREATE OR REPLACE TEMP VIEW a_poll_rows_in AS
SELECT r.*
FROM h_polled_sessions AS r
ANTI JOIN a_poll_from AS f ON f.instance = r.instance AND (f.kept_whole OR r.polled_at < f.t0);

CREATE OR REPLACE TEMP VIEW a_audit_log_in AS
SELECT a.*
FROM h_audit_log AS a
ANTI JOIN a_poll_from AS f ON f.instance = a.instance AND (f.kept_whole OR a.event_time < f.t0);
