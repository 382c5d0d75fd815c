-- rejects: lines ingest rejected, in total and per instance whose name the raw line mentions
-- (rejects carry no instance column: a line too broken to parse may still name its instance).
-- Parameters: $instances (VARCHAR[]).
SELECT
    i.instance,
    CAST(count(r.line) AS INTEGER) AS rejected_lines,
    CAST((SELECT count(*) FROM rejects) AS INTEGER) AS rejected_total
FROM (SELECT unnest($instances) AS instance) i
LEFT JOIN rejects r ON contains(lower(r.raw), lower(i.instance))
GROUP BY i.instance
ORDER BY i.instance
