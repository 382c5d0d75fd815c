-- expiry_points: the activity instants of sessions whose auth flow has an absolute
-- expiry, by island, numbered, each with the number of the first instant of its island at
-- or after ts + expiry. A segment opened at instant t ends at t + expiry and the next one
-- opens at that "next" instant; the caller follows these pointers from each island's
-- first instant and hands the instants it reached back as a_chain_marks (n).
-- Only these sessions' events are handled here: for all others a segment is an island.
-- first_seq: the first activity row (by seq) at the instant, where a chain's segment opens.
-- Windows are partitioned by session or island, never one global order (DuckDB evaluates a
-- global ORDER BY window on one thread); n only names the points, in no particular order.
-- Reads: a_act. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_expiry_points AS
WITH expiring AS (
    -- island: the session's key in the high bits, the island's number within it in the low
    SELECT seq, ts, expiry_us,
           (CAST(skey AS BIGINT) << 32)
           + sum(CAST(opens AS INTEGER)) OVER (PARTITION BY skey ORDER BY seq ROWS UNBOUNDED PRECEDING) AS island
    FROM a_act
    WHERE expiry_us IS NOT NULL
),
pts AS (
    SELECT island, ts, any_value(expiry_us) AS expiry_us, min(seq) AS first_seq
    FROM expiring
    GROUP BY island, ts
),
numbered AS (
    SELECT island, ts, first_seq, ts + to_microseconds(expiry_us) AS target,
           row_number() OVER () - 1 AS n,
           ts = min(ts) OVER (PARTITION BY island) AS first_in_island
    FROM pts
)
SELECT a.n, a.first_in_island, coalesce(b.n, -1) AS next_n, a.island, a.ts, a.first_seq
FROM numbered AS a
ASOF LEFT JOIN numbered AS b ON b.island = a.island AND b.ts >= a.target
