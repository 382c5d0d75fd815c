-- known_files: the content hashes of every file an earlier ingest read (a file skipped has none).
-- Parameters: none. Reads the ingest_log view.
SELECT DISTINCT file_sha256 FROM ingest_log WHERE file_sha256 IS NOT NULL
