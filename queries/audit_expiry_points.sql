-- audit_expiry_points: the activity instants of sessions whose auth flow has an absolute
-- expiry, by island, numbered, each with the number of the first instant of its island at
-- or after ts + expiry. A segment opened at instant t ends at t + expiry and the next one
-- opens at that "next" instant; the caller follows these pointers from each island's
-- first instant and hands the instants it reached back as a_chain_marks (n).
-- Only these sessions' events are handled here: for all others a segment is an island.
-- Reads: a_act. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_expiry_points AS
WITH expiring AS (
    SELECT seq, ts, expiry_us,
           sum(CAST(opens AS INTEGER)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS island
    FROM a_act
    WHERE expiry_us IS NOT NULL
),
pts AS (
    SELECT island, ts, any_value(expiry_us) AS expiry_us
    FROM expiring
    GROUP BY island, ts
),
numbered AS (
    SELECT island, ts, ts + to_microseconds(expiry_us) AS target,
           row_number() OVER (ORDER BY island, ts) - 1 AS n,
           ts = min(ts) OVER (PARTITION BY island) AS first_in_island
    FROM pts
)
SELECT a.n, a.first_in_island, coalesce(b.n, -1) AS next_n, a.island, a.ts
FROM numbered AS a
ASOF LEFT JOIN numbered AS b ON b.island = a.island AND b.ts >= a.target
