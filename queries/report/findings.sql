-- findings: the licence-term findings of each selected instance's report period (their local day in it),
-- those the licence would have counted most seats for first, then in time order.
-- Reads the relation report_scope(instance, timezone, period_start, period_end, first_day, end_day).
-- Parameters: $instances (VARCHAR[]).
SELECT f.instance, f.kind, f.session_id, f."user", f.first_seen, f.last_seen, f.occurrences, f.seats_implied,
       f.peak_seats_implied, f.evidence
FROM report_scope s
JOIN findings f ON f.instance = s.instance AND f.day >= s.first_day AND f.day < s.end_day
WHERE list_contains($instances, s.instance)
ORDER BY f.instance, f.seats_implied DESC, f.first_seen, f.kind, f.session_id
