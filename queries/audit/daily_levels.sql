-- daily_levels: per instance and local day, the microseconds spent at each number of
-- seats in use (above zero). instance_summary's p95 and recommended limit sum these.
-- Reads: a_piece_days. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_daily_levels AS
SELECT ikey, day, seats_in_use, CAST(sum(epoch_us(b) - epoch_us(a)) AS BIGINT) AS in_use_us
FROM a_piece_days
GROUP BY ikey, day, seats_in_use
