-- audit_session_events: the login/request/logout events of every session, in rule order.
-- ord gives the order at equal times: login (0) < request (1) < logout (2). seq numbers
-- the events in the order (ikey, session_id, ts, ord) once; every later window orders by
-- seq, so that tied events get one order everywhere (a running count over an order with
-- ties would depend on how each window happens to break them).
-- Only what the segmentation needs; the sessions' text attributes are aggregated apart.
-- Reads: events, a_instances. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_sev AS
WITH ev AS (
    SELECT i.ikey, e.session_id, e.ts,
           CAST(CASE e.event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS TINYINT) AS ord
    FROM events AS e
    JOIN a_instances AS i USING (instance)
    WHERE e.event IN ('login', 'request', 'logout') AND e.session_id IS NOT NULL
)
SELECT row_number() OVER (ORDER BY ikey, session_id, ts, ord) AS seq, ikey, session_id, ts, ord
FROM ev
