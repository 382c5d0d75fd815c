-- piece_days: each usage step cut into the local days it overlaps, clipped to them.
-- A piece above zero counts in every day it overlaps (a level carried over midnight belongs
-- to both days). Days come from timezone(tz, ts) with the instance's tz named explicitly.
-- Reads: a_day_steps, a_instances, a_days. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_piece_days AS
WITH exploded AS (
    SELECT p.ikey, p.step_start, p.step_end, p.seats_in_use, p.seats_in_use_min, p.seat_limit,
           CAST(unnest(generate_series(
               CAST(CAST(timezone(i.tz, p.step_start) AS DATE) AS TIMESTAMP),
               CAST(CAST(timezone(i.tz, p.step_end - INTERVAL 1 MICROSECOND) AS DATE) AS TIMESTAMP),
               INTERVAL 1 DAY)) AS DATE) AS day
    FROM a_day_steps AS p JOIN a_instances AS i USING (ikey)
)
SELECT x.ikey, x.day, x.step_start, x.seats_in_use, x.seats_in_use_min, x.seat_limit,
       greatest(x.step_start, d.d0) AS a, least(x.step_end, d.d1) AS b
FROM exploded AS x
JOIN a_days AS d USING (ikey, day)
