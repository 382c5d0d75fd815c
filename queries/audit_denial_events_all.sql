-- audit_denial_events_all: the events a full audit counts refused logins in: all it reads.
-- Reads: a_events_in. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_denial_events_in AS
SELECT * FROM a_events_in
