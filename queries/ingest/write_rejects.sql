-- write_rejects: write this run's rejected lines as its rejects partition, in input order.
-- Reads `ingest_staged`, which ingest registers: the staged batches holding rejects, streamed; and
-- `ingest_more_rejects` (file_no, line, reason, raw): the rejected lines of snapshot files.
-- Parameters: $run_id VARCHAR; $files VARCHAR[] — the
-- input files' paths, by file_no (the first is file_no 0); $path VARCHAR — the new file.
COPY (
    SELECT CAST($run_id AS VARCHAR) AS run_id,
           $files[file_no + 1] AS file,
           line,
           reason,
           raw
    FROM (
        SELECT file_no, line, reject_reason AS reason, raw FROM ingest_staged WHERE reject_reason IS NOT NULL
        UNION ALL
        SELECT file_no, line, reason, raw FROM ingest_more_rejects
    )
    ORDER BY file_no, line
) TO $path (FORMAT parquet, COMPRESSION zstd)
