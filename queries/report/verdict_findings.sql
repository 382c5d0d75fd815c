-- verdict_findings: the findings the verdict counts in each report's period (v_finding_days, see
-- audit/verdict): the warehouse's findings table.
-- Parameters: none.
CREATE OR REPLACE TEMP VIEW v_finding_days AS
SELECT instance, day, peak_seats_implied FROM findings
