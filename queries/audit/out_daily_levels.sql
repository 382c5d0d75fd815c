-- out_daily_levels: the daily_levels rows this audit computed.
-- Reads: a_daily_levels, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_daily_levels AS
SELECT i.instance, l.day, CAST(l.seats_in_use AS BIGINT) AS seats_in_use, l.in_use_us
FROM a_daily_levels AS l JOIN a_instances AS i USING (ikey)
