-- out_daily_coverage: the daily_coverage rows this audit computed.
-- Reads: a_daily_coverage. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_daily_coverage AS
SELECT instance, day, CAST(covered_us AS BIGINT) / 1e6 AS covered_seconds FROM a_daily_coverage
