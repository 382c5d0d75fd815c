-- verdict_coverage: the per-day coverage the verdict sums for each report's period (v_coverage,
-- see audit/verdict): the warehouse's daily_coverage.
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_coverage AS
SELECT instance, day, covered_seconds FROM daily_coverage
