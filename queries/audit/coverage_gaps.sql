-- coverage_gaps: the stretches between two consecutive successful polls of an instance more than
-- twice the polling interval apart (an instant within the interval of a successful poll is
-- covered; in such a stretch some instants are not).
-- Reads: a_ok_polls. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_coverage_gaps AS
SELECT instance, polled_at AS gap_start, next_poll AS gap_end,
       (epoch_us(next_poll) - epoch_us(polled_at)) / 1e6 AS duration_s
FROM a_ok_polls
WHERE gap_after
