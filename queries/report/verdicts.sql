-- verdicts: each report's verdict on its period, as audit/verdict computed it (run after it).
-- Reads: v_verdict. Parameters: none.
SELECT * FROM v_verdict ORDER BY instance
