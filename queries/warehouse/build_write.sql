-- build_write: records in a new auditor.duckdb what it was built from, so that any
-- later command can tell whether the file still matches the manifest and the warehouse's place.
-- Parameters: $generation (the manifest's generation), $root (the warehouse's absolute path),
-- $views_sha256 (SHA-256 of the views' definitions, which name every committed file by absolute path).
-- Runs with the new database file in use; creates its table _auditor_build (one row).
CREATE TABLE _auditor_build AS
SELECT
    CAST($generation AS BIGINT) AS generation,
    CAST($root AS VARCHAR) AS root,
    CAST($views_sha256 AS VARCHAR) AS views_sha256,
    now() AS built_at
