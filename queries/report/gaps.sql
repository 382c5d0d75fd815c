-- gaps: the longest stretches without a successful poll (coverage_gaps) overlapping each selected
-- instance's report period, longest first, unclipped, with how many overlap it in all (gap_count).
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]); $longest (INTEGER): how many gaps to list per instance.
WITH overlapping AS (
    SELECT g.instance, g.gap_start, g.gap_end, g.duration_s,
           count(*) OVER (PARTITION BY g.instance) AS gap_count,
           row_number() OVER (PARTITION BY g.instance ORDER BY g.duration_s DESC, g.gap_start) AS rank
    FROM report_scope s
    JOIN coverage_gaps g ON g.instance = s.instance AND g.gap_start < s.period_end AND g.gap_end > s.period_start
    WHERE list_contains($instances, s.instance)
)
SELECT instance, gap_start, gap_end, duration_s, CAST(gap_count AS INTEGER) AS gap_count
FROM overlapping
WHERE rank <= $longest
ORDER BY instance, rank
