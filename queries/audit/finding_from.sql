-- finding_from: per instance with a restart point, the instant t0 from which the licence-term findings
-- read their inputs (audit/finding_inputs): the local midnight d0 of its restart day, from which its
-- findings are recomputed whole, less the cycling gap (a cycle whose login falls just after midnight
-- began with a logout just before it). Infinite for instances kept whole; a full audit has none.
-- Reads: a_restart_points. Parameters: $gap_us (the cycling gap, microseconds).
CREATE OR REPLACE TEMP TABLE a_finding_from AS
SELECT instance, q, d0, d0 - to_microseconds(CAST($gap_us AS BIGINT)) AS t0
FROM a_restart_points
