-- verdict_gaps: the coverage gaps the verdict reads for each report's period (v_gaps, see
-- audit/verdict): the warehouse's coverage_gaps.
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_gaps AS
SELECT instance, gap_start, gap_end FROM coverage_gaps
