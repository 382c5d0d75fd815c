-- audit_covering: for each candidate restart point (a_q: instance, q), the earliest start of
-- a stored segment of that instance that spans it: starts before q and ends after it, or
-- ends exactly at q by a logout (then the events at q belonged to it). An incremental audit
-- may start recomputing an instance at q only when no segment spans q.
-- Reads: a_q. Parameters: $files (the sessions partitions that can hold such segments).
SELECT s.instance, min(s.start_ts) AS start_ts
FROM read_parquet($files, hive_partitioning = false) AS s
JOIN a_q AS q USING (instance)
WHERE s.start_ts < q.q AND (s.end_ts > q.q OR (s.end_ts = q.q AND s.end_reason = 'logout'))
GROUP BY s.instance
