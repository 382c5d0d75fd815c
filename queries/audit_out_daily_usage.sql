-- audit_out_daily_usage: the daily_usage rows this audit computed, with the partition they belong to (part).
-- part: the local day.
-- Reads: a_daily. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_daily_usage AS
SELECT instance, day, peak_seats, peak_at, seat_limit, seconds_over_limit, breach_count, denials,
       sessions, distinct_users, distinct_devices,
       strftime(day, '%Y-%m-%d') AS part
FROM a_daily
