-- verdict_periods: the verdict's periods (v_periods, see audit/verdict): each report's instance and period.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_periods AS
SELECT instance, timezone, first_day, end_day, period_start, period_end FROM report_scope
