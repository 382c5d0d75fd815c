-- audit_kept_session_state: the stored session_state rows an incremental audit keeps in the
-- partitions it rewrites: all but the sessions it merged new events into (a_sattr).
-- Reads: a_sattr. Parameters: $files (the partitions it rewrites).
CREATE OR REPLACE TEMP TABLE a_kept_session_state AS
SELECT t.*, strftime(timezone('UTC', t.first_ts), '%Y-%m-%d') AS part
FROM read_parquet($files, hive_partitioning = false) AS t
ANTI JOIN a_sattr AS a ON a.instance = t.instance AND a.session_id = t.session_id
