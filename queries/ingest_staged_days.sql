-- ingest_staged_days: the UTC dates of this run's valid events, i.e. the event partitions it touches.
-- Parameters: $staged VARCHAR[] — this run's staging files.
SELECT DISTINCT CAST(ts AS DATE) AS day
FROM read_parquet($staged)
WHERE reject_reason IS NULL
ORDER BY day
