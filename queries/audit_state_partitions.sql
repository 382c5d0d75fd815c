-- audit_state_partitions: the session_state files that hold a session this audit merged
-- new events into (they must be rewritten).
-- Reads: a_sattr. Parameters: $files (all session_state partitions).
SELECT DISTINCT t.filename
FROM read_parquet($files, hive_partitioning = false, filename = true) AS t
SEMI JOIN a_sattr AS a ON a.instance = t.instance AND a.session_id = t.session_id
