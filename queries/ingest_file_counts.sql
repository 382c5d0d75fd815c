-- ingest_file_counts: per input file of this run, the lines read (not blank), how many were
-- rejected, and the names of unknown fields seen (sorted, each once).
-- Parameters: $staged VARCHAR[] — this run's staging files.
SELECT file_no,
       count(*) AS "read",
       count(reject_reason) AS rejected,
       list_sort(list_distinct(flatten(list(unknown) FILTER (unknown IS NOT NULL)))) AS unknown_fields
FROM read_parquet($staged)
GROUP BY file_no
