-- out_findings: the findings rows this audit computed (every kind), for the local days it recomputes.
-- Reads: a_findings_shared, a_findings_parallel, a_findings_cycling. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_out_findings AS
SELECT instance, kind, session_id, "user", first_seen, last_seen, occurrences, seats_implied, evidence, day,
       peak_seats_implied
FROM (
    SELECT * FROM a_findings_shared
    UNION ALL BY NAME
    SELECT * FROM a_findings_parallel
    UNION ALL BY NAME
    SELECT * FROM a_findings_cycling
)
