-- new_events: what the merged date partition (queries/ingest/merge_partition.sql) gained in
-- this run, per input file and instance: the number of new events and their first and last ts.
-- Reads the temp table ingest_merged. Parameters: none.
SELECT CAST(first_src // 1099511627776 AS INTEGER) AS file_no,
       instance,
       count(*) AS accepted,
       min(ts) AS first_ts,
       max(ts) AS last_ts
FROM ingest_merged
WHERE first_src >= 0
GROUP BY ALL
