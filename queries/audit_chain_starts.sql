-- audit_chain_starts: the instants at which the absolute expiry opens a new segment
-- (every instant the pointer chase from each island's first instant reached).
-- Reads: a_expiry_points, a_chain_marks (n). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_chain_starts AS
SELECT p.island, p.ts
FROM a_expiry_points AS p
SEMI JOIN a_chain_marks AS m ON m.n = p.n
