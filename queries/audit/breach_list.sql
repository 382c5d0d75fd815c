-- breach_list: the breaches found, for the caller's summary (and the nightly's alerts).
-- Reads: a_breaches, a_instances. Parameters: none.
SELECT i.instance, b.breach_start, b.breach_end, CAST(b.peak_seats AS BIGINT), CAST(b.seat_limit AS INTEGER)
FROM a_breaches AS b
JOIN a_instances AS i USING (ikey)
ORDER BY i.instance, b.breach_start
