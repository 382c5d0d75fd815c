-- audit_out_usage_steps: the usage_steps rows this audit computed, with the partition they belong to (part).
-- part: the UTC date of step_start.
-- Reads: a_steps, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_usage_steps AS
SELECT i.instance, s.step_start, s.step_end, CAST(s.seats_in_use AS BIGINT) AS seats_in_use,
       CAST(s.seat_limit AS INTEGER) AS seat_limit,
       strftime(timezone('UTC', s.step_start), '%Y-%m-%d') AS part
FROM a_steps AS s JOIN a_instances AS i USING (ikey)
