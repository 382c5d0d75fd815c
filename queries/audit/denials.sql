-- denials: refused logins (a_denial_events_in), keyed by ikey.
-- Reads: a_denial_events_in, a_instances. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_denials AS
SELECT i.ikey, e.ts
FROM a_denial_events_in AS e
JOIN a_instances AS i USING (instance)
