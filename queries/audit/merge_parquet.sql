-- merge_parquet: several Parquet files of one partition as one file.
-- Parameters: $files (the files), $path (the file to write), $compression and $parquet_version
-- (how the audit writes Parquet: auditor/audit/outputs.py, PARQUET_COPY).
COPY (SELECT * FROM read_parquet($files)) TO $path (FORMAT parquet, COMPRESSION $compression, PARQUET_VERSION $parquet_version)
