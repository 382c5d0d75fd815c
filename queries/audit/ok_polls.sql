-- ok_polls: the successful polls the audit works from, each with the one before and the one after
-- it (one sorted pass shared by the polled sessions, the coverage gaps and the daily coverage;
-- nothing else rides along, since every column carried through the sort costs).
-- A re-audited instance's are those from its a_poll_from instant t0 on and the latest one before
-- t0 (the caller reads the polls back far enough to hold it), so that the gap or the stretch of
-- polling that runs across t0 is seen whole.
-- gap_before / gap_after: the poll before / after it is more than twice $poll_interval_us away
-- (the one statement of what a gap is: coverage_gaps lists them, daily_coverage's islands end at them).
-- Reads: a_polls_in, h_polls, a_poll_from. Parameters: $poll_interval_us.
CREATE OR REPLACE TEMP TABLE a_ok_polls AS
WITH ok AS (
    SELECT instance, polled_at FROM a_polls_in WHERE ok
    UNION ALL
    SELECT p.instance, max(p.polled_at)
    FROM h_polls AS p
    JOIN a_poll_from AS f ON f.instance = p.instance AND NOT f.kept_whole AND p.polled_at < f.t0
    WHERE p.ok
    GROUP BY p.instance
)
SELECT *,
       epoch_us(polled_at) - epoch_us(prev_poll) > 2 * CAST($poll_interval_us AS BIGINT) AS gap_before,
       epoch_us(next_poll) - epoch_us(polled_at) > 2 * CAST($poll_interval_us AS BIGINT) AS gap_after
FROM (
    SELECT instance, polled_at,
           lag(polled_at) OVER by_instance AS prev_poll,
           lead(polled_at) OVER by_instance AS next_poll
    FROM ok
    WINDOW by_instance AS (PARTITION BY instance ORDER BY polled_at)
)
