-- audit_events_all: the events a full audit works from: all of them.
-- Every engine statement reads a_events_in; an incremental audit defines it as the recent
-- events of the re-audited instances instead (audit_events_recent).
-- Reads: events. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_events_in AS
SELECT * FROM events
