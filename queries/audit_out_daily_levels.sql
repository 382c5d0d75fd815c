-- audit_out_daily_levels: the daily_levels rows this audit computed, with the partition they belong to (part).
-- part: the local day.
-- Reads: a_daily_levels, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_daily_levels AS
SELECT i.instance, l.day, CAST(l.seats_in_use AS BIGINT) AS seats_in_use, l.in_use_us,
       strftime(l.day, '%Y-%m-%d') AS part
FROM a_daily_levels AS l JOIN a_instances AS i USING (ikey)
