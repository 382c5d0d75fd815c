-- out_daily_usage: the daily_usage rows this audit computed.
-- Reads: a_daily. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_daily_usage AS
SELECT instance, day, peak_seats, peak_at, seat_limit, seconds_over_limit, seconds_at_limit, seconds_unlicensed,
       breach_count, in_breach_at_start, denials,
       sessions, distinct_users, distinct_devices,
       peak_seats_min, seconds_over_limit_min, certain_breach_count, in_certain_breach_at_start
FROM a_daily
