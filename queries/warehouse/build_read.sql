-- build_read: the digest of the views auditor.duckdb was built with (see warehouse_build_write).
-- Parameters: none. Reads auditor.duckdb, attached read-only as auditor_file.
SELECT views_sha256 FROM auditor_file._auditor_build
