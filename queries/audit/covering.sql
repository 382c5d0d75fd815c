-- covering: for each candidate restart point (a_restart_from: instance, q) that a stored segment
-- covers - one that starts before q and ends at or after it - the latest instant t < q at
-- which the instance can restart instead: the latest start of a stored segment that no other
-- segment covers (every instant between it and q is then covered, so none later will do).
-- An incremental audit restarts an instance at q only when nothing covers it: then no
-- segment is open at q (nor ends there by a logout at q), so no segment runs across q.
-- Instances whose q nothing covers are left out.
-- The splice: a log segment that the absolute expiry ended exactly at q does not cover q.
-- No new event can change it, its session's next segment opens at its first activity at or
-- after q whatever came before, and the usage step and breach running across q are spliced
-- by audit/splice_steps and audit/breaches. So a service that never pauses (one-hour
-- segments back to back) restarts at its last segment's start, not at its first event.
-- One pass over the stored segments finds t however many segments chain back to back,
-- where following the covering segments one at a time took a statement per segment. t is
-- as far as the history read shows: a segment in an earlier partition may still cover it,
-- so the caller reads further back until no instance moves.
-- A stored polled session that is 'open' (no successful poll after it) covers every later
-- instant: the next poll, whenever it comes, is its latest end.
-- Reads: h_sessions, h_open_sessions, a_restart_from. Parameters: none.
WITH stored AS (
    SELECT instance, start_ts,
           CASE WHEN source = 'poll' AND end_reason = 'open' THEN CAST('infinity' AS TIMESTAMPTZ)
                -- covers the instants before its end only (instants are whole microseconds)
                WHEN source = 'log' AND end_reason = 'absolute_expiry' THEN end_ts - INTERVAL 1 MICROSECOND
                ELSE end_ts END AS end_ts
    FROM h_sessions
    UNION ALL
    SELECT instance, start_ts, CAST('infinity' AS TIMESTAMPTZ)
    FROM h_open_sessions
    WHERE source = 'poll' AND end_reason = 'open'
),
seg AS (
    SELECT s.instance, s.start_ts, s.end_ts, q.q
    FROM stored AS s
    JOIN a_restart_from AS q USING (instance)
    WHERE s.start_ts < q.q
),
covered_q AS (
    SELECT instance FROM seg GROUP BY instance, q HAVING max(end_ts) >= q
),
reach AS (
    -- the latest end among the segments that start strictly before this one
    SELECT instance, start_ts,
           max(end_ts) OVER (PARTITION BY instance ORDER BY start_ts
                             RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP) AS reach_before
    FROM seg
    SEMI JOIN covered_q USING (instance)
)
SELECT instance, max(start_ts) AS start_ts
FROM reach
WHERE reach_before IS NULL OR reach_before < start_ts
GROUP BY instance
