-- merge_parquet: several Parquet files of one partition as one file.
-- Parameters: $files (the files), $path (the file to write).
COPY (SELECT * FROM read_parquet($files)) TO $path (FORMAT parquet, COMPRESSION zstd)
