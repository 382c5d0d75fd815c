-- out_coverage_gaps: the coverage_gaps rows this audit computed.
-- Reads: a_coverage_gaps. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_coverage_gaps AS
SELECT instance, gap_start, gap_end, duration_s FROM a_coverage_gaps
