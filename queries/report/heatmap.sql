-- heatmap: peak seats in use by local weekday (ISO: 1 = Monday) and local hour for each selected
-- instance over its report period. The period is cut into 15-minute slots (every time zone's offset is a
-- multiple of 15 minutes, so a slot lies within one local hour, daylight-saving days included); a slot's
-- peak is the largest level of any usage step overlapping it.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]).
WITH slots AS (
    SELECT s.instance, s.timezone, slot AS slot_start, slot + INTERVAL 15 MINUTE AS slot_end
    FROM report_scope s,
         LATERAL (SELECT unnest(generate_series(s.period_start, s.period_end - INTERVAL 15 MINUTE, INTERVAL 15 MINUTE)) AS slot)
    WHERE list_contains($instances, s.instance)
), slot_peaks AS (
    SELECT sl.instance, sl.timezone, sl.slot_start, max(u.seats_in_use) AS peak
    FROM slots sl
    JOIN usage_steps u
      ON u.instance = sl.instance AND u.step_start < sl.slot_end AND u.step_end > sl.slot_start
    GROUP BY ALL
)
SELECT
    instance,
    CAST(isodow(timezone(timezone, slot_start)) AS INTEGER) AS weekday,
    CAST(hour(timezone(timezone, slot_start)) AS INTEGER) AS hour,
    CAST(max(peak) AS BIGINT) AS peak_seats
FROM slot_peaks
GROUP BY ALL
ORDER BY instance, weekday, hour
