-- new_findings: the findings this audit gives whose identity the warehouse did not hold before it:
-- (instance, kind, day, session_id, user) not among the old rows of the findings it replaces. A finding
-- that grows (more cycles, a later poll) keeps its identity and is not new again. The findings table is
-- one partition, rewritten whole, so its old rows are all the comparison needs.
-- Reads: a_out_findings, h_replaced_findings (the old rows). Parameters: none.
SELECT instance, kind, day, session_id, coalesce("user", '') FROM a_out_findings
EXCEPT
SELECT instance, kind, day, session_id, coalesce("user", '') FROM h_replaced_findings
ORDER BY ALL
