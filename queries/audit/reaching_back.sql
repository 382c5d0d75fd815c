-- reaching_back: the re-audited instances whose stored usage step or breach at the instant p just
-- before t0 (audit/finding_from: the local midnight d0 of the restart day less the cycling gap;
-- the days and findings read the stored rows that reach t0, audit/splice_steps and audit/breaches
-- those running across q) began before the stored rows read. Every stored segment covering p was
-- read (none is longer than the longest segment); when one holds a seat at p but no step read
-- covers p, or the step there is over the limit but no breach read covers p, that row starts
-- further back: a service that never pauses, or any other run of segments back to back. Their
-- steps and breaches are then read whole.
-- Reads: a_finding_from, h_sessions, h_usage_steps, h_breaches. Parameters: none.
WITH points AS (
    SELECT instance, t0 - INTERVAL 1 MICROSECOND AS p
    FROM a_finding_from
    WHERE NOT isinf(q)
),
in_use AS (
    SELECT DISTINCT t.instance, t.p
    FROM points AS t
    JOIN h_sessions AS s ON s.instance = t.instance AND s.start_ts <= t.p AND s.end_ts > t.p
    WHERE s.counted AND s.seats > 0
),
step_at_p AS (
    SELECT s.instance, s.seats_in_use > s.seat_limit AS over
    FROM points AS t
    JOIN h_usage_steps AS s ON s.instance = t.instance AND s.step_start <= t.p AND s.step_end > t.p
)
SELECT instance FROM in_use ANTI JOIN step_at_p USING (instance)
UNION
SELECT s.instance
FROM step_at_p AS s
JOIN points AS t USING (instance)
WHERE s.over
  AND NOT EXISTS (SELECT 1 FROM h_breaches AS b WHERE b.instance = t.instance AND b.breach_start <= t.p AND b.breach_end > t.p)
ORDER BY instance
