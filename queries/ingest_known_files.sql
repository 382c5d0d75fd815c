-- ingest_known_files: the content hashes of every file an earlier ingest read.
-- Parameters: none. Reads the ingest_log view.
SELECT DISTINCT file_sha256 FROM ingest_log
