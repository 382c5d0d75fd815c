-- restarts: the distinct restart instants of each instance.
-- Reads: a_events_in, a_instances. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_restarts AS
SELECT DISTINCT i.ikey, e.ts
FROM a_events_in AS e
JOIN a_instances AS i USING (instance)
WHERE e.event = 'restart'
ORDER BY 1, 2
