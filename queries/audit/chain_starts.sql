-- chain_starts: the activity rows (by seq) at which the absolute expiry opens a new
-- segment: the first row at each instant the pointer chase reached (a_chain_marks).
-- Reads: a_expiry_points, a_chain_marks (n). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_chain_starts AS
SELECT p.first_seq AS seq
FROM a_expiry_points AS p
SEMI JOIN a_chain_marks AS m ON m.n = p.n
