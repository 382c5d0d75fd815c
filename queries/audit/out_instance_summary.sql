-- out_instance_summary: the instance_summary rows this audit computed: the verdict on the audited period.
-- Reads: v_verdict. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_instance_summary AS
SELECT instance, customer, plan, timezone, period_start, period_end, seat_limit, plan_maximum,
       peak_seats, peak_at, p95_seats, seconds_in_use, seconds_over_limit, seconds_unlicensed, breach_count,
       denials, limit_reached, status, recommended_seat_limit, recommended_extra_sessions, fits_plan_maximum,
       peak_seats_min, seconds_over_limit_min, certain_breach_count, coverage
FROM v_verdict
