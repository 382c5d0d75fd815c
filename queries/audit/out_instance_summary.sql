-- out_instance_summary: the instance_summary rows this audit computed: the verdict on the audited period.
-- Reads: v_verdict. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_instance_summary AS
SELECT v.instance, v.customer, v.plan, v.timezone, v.period_start, v.period_end, v.seat_limit, v.plan_maximum,
       v.peak_seats, v.peak_at, v.p95_seats, v.seconds_in_use, v.seconds_over_limit, v.seconds_unlicensed, v.breach_count,
       v.denials, v.limit_reached, v.status, v.recommended_seat_limit, v.recommended_extra_sessions, v.fits_plan_maximum,
       v.peak_seats_min, v.seconds_over_limit_min, v.certain_breach_count, v.coverage,
       v.findings, v.peak_seats_implied
FROM v_verdict AS v
