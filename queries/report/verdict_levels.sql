-- verdict_levels: the time at each number of seats the verdict sums for each report's period
-- (v_levels, see audit/verdict): the warehouse's daily_levels.
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_levels AS
SELECT instance, day, seats_in_use, in_use_us FROM daily_levels
