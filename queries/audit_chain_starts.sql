-- audit_chain_starts: the activity rows (by seq) at which the absolute expiry opens a new
-- segment: the first row at each instant the pointer chase reached (a_chain_marks).
-- Reads: a_act, a_expiry_points, a_chain_marks (n). Parameters: none.
CREATE OR REPLACE TEMP TABLE a_chain_starts AS
WITH expiring AS (
    SELECT seq, ts, sum(CAST(opens AS INTEGER)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS island
    FROM a_act
    WHERE expiry_us IS NOT NULL
),
reached AS (
    SELECT p.island, p.ts
    FROM a_expiry_points AS p
    SEMI JOIN a_chain_marks AS m ON m.n = p.n
)
SELECT min(e.seq) AS seq
FROM expiring AS e
JOIN reached AS r ON r.island = e.island AND r.ts = e.ts
GROUP BY e.island, e.ts
