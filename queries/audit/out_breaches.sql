-- out_breaches: the breaches rows this audit computed.
-- Reads: a_breaches, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_breaches AS
SELECT i.instance, b.breach_start, b.breach_end, b.duration_s,
       CAST(b.peak_seats AS BIGINT) AS peak_seats, b.peak_at,
       CAST(b.seat_limit AS INTEGER) AS seat_limit, CAST(b.max_excess AS BIGINT) AS max_excess,
       b.certain, b.certain_seconds
FROM a_breaches AS b JOIN a_instances AS i USING (ikey)
