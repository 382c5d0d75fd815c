-- ingest_batch_summary: the figures of one staged batch (the rows of queries/ingest_stage.sql), which
-- ingest registers as the Arrow table `ingest_staged`: lines read (not blank), how many were rejected,
-- the unknown field names seen (sorted, each once), and the UTC dates of its valid events.
-- Parameters: none.
SELECT count(*) AS "read",
       count(reject_reason) AS rejected,
       list_sort(list_distinct(flatten(list(unknown) FILTER (unknown IS NOT NULL)))) AS unknown_fields,
       list(DISTINCT CAST(ts AS DATE)) FILTER (reject_reason IS NULL) AS days
FROM ingest_staged
