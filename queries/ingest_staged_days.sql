-- ingest_staged_days: which UTC dates each staging file of this run holds valid events for, so that
-- merging a date partition reads only the staging files that have some of it.
-- Parameters: $staged VARCHAR[] — this run's staging files.
SELECT CAST(ts AS DATE) AS day, list(DISTINCT filename ORDER BY filename) AS files
FROM read_parquet($staged, filename = true)
WHERE reject_reason IS NULL
GROUP BY day
ORDER BY day
