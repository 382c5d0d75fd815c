-- out_usage_steps: the usage_steps rows this audit computed.
-- Reads: a_steps, a_instances. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_usage_steps AS
SELECT i.instance, s.step_start, s.step_end, CAST(s.seats_in_use AS BIGINT) AS seats_in_use,
       CAST(s.seat_limit AS INTEGER) AS seat_limit, CAST(s.seats_in_use_min AS BIGINT) AS seats_in_use_min
FROM a_steps AS s JOIN a_instances AS i USING (ikey)
