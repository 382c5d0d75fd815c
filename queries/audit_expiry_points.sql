-- audit_expiry_points: the distinct activity instants of islands that the absolute expiry
-- can split (auth flows with an expiry, islands at least that long), numbered, each with
-- the number of the first instant of its island at or after ts + expiry.
-- A segment opened at instant t ends at t + expiry; the next one opens at that "next"
-- instant; the caller follows these pointers from each island's first instant and
-- hands the instants it reached back as a_chain_marks (n).
-- Reads: a_act. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_expiry_points AS
WITH long_islands AS (
    SELECT island
    FROM a_act
    WHERE expiry_us IS NOT NULL
    GROUP BY island
    HAVING max(ts) >= min(ts) + to_microseconds(any_value(expiry_us))
),
pts AS (
    SELECT DISTINCT a.island, a.ts, a.ts + to_microseconds(a.expiry_us) AS target
    FROM a_act AS a
    SEMI JOIN long_islands AS l ON a.island = l.island
),
numbered AS (
    SELECT island, ts, target,
           row_number() OVER (ORDER BY island, ts) - 1 AS n,
           ts = min(ts) OVER (PARTITION BY island) AS first_in_island
    FROM pts
)
SELECT a.n, a.first_in_island, coalesce(b.n, -1) AS next_n, a.island, a.ts
FROM numbered AS a
ASOF LEFT JOIN numbered AS b ON b.island = a.island AND b.ts >= a.target
ORDER BY a.n
