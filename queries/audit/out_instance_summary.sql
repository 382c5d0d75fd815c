-- out_instance_summary: the instance_summary rows this audit computed.
-- Reads: a_summary. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_instance_summary AS
SELECT instance, customer, plan, timezone, period_start, period_end, seat_limit, plan_maximum,
       peak_seats, peak_at, p95_seats, seconds_over_limit, breach_count, denials, status,
       recommended_seat_limit, recommended_extra_sessions, fits_plan_maximum
FROM a_summary
