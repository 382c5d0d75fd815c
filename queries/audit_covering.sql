-- audit_covering: for each candidate restart point (a_q: instance, q), the earliest start of
-- a stored segment of that instance that starts before q and ends at or after it. An
-- incremental audit restarts an instance at q only when none does: then no segment is open
-- at q (nor ends there by a logout at q), and no seat is in use just before q, so no usage
-- step or breach runs across q.
-- Reads: a_q. Parameters: $files (the sessions partitions that can hold such segments).
SELECT s.instance, min(s.start_ts) AS start_ts
FROM read_parquet($files, hive_partitioning = false) AS s
JOIN a_q AS q USING (instance)
WHERE s.start_ts < q.q AND s.end_ts >= q.q
GROUP BY s.instance
