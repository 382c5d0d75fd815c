-- coverage_gaps: the stretches between two consecutive successful polls of an instance more than
-- twice the polling interval apart (an instant within the interval of a successful poll is
-- covered; in such a stretch some instants are not). A re-audited instance's gaps are those from
-- its a_poll_from instant on, with the latest successful poll before it (so the gap running across
-- that instant is recomputed whole; the caller reads the polls back far enough to hold it).
-- Reads: a_polls_in, h_polls, a_poll_from. Parameters: $poll_interval_us.
CREATE OR REPLACE TEMP TABLE a_coverage_gaps AS
WITH ok AS (
    SELECT instance, polled_at FROM a_polls_in WHERE ok
    UNION ALL
    SELECT p.instance, max(p.polled_at)
    FROM h_polls AS p
    JOIN a_poll_from AS f ON f.instance = p.instance AND NOT f.kept_whole AND p.polled_at < f.t0
    WHERE p.ok
    GROUP BY p.instance
),
spaced AS (
    SELECT instance, polled_at AS gap_start,
           lead(polled_at) OVER (PARTITION BY instance ORDER BY polled_at) AS gap_end
    FROM ok
)
SELECT instance, gap_start, gap_end, (epoch_us(gap_end) - epoch_us(gap_start)) / 1e6 AS duration_s
FROM spaced
WHERE epoch_us(gap_end) - epoch_us(gap_start) > 2 * CAST($poll_interval_us AS BIGINT)
