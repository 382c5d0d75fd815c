-- audit_write_usage_steps: the usage_steps table as Parquet, one folder per UTC date of
-- step_start (date=YYYY-MM-DD).
-- Reads: a_steps, a_instances. Parameters: $dir (the folder to write under).
COPY (
    SELECT i.instance, s.step_start, s.step_end, s.seats_in_use, CAST(s.seat_limit AS INTEGER) AS seat_limit,
           strftime(timezone('UTC', s.step_start), '%Y-%m-%d') AS date
    FROM a_steps AS s JOIN a_instances AS i USING (ikey)
    ORDER BY i.instance, s.step_start
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))
