-- audit_write_breaches: the breaches table as Parquet, one folder per UTC date of
-- breach_start (date=YYYY-MM-DD).
-- Reads: a_breaches, a_instances. Parameters: $dir (the folder to write under).
COPY (
    SELECT i.instance, b.breach_start, b.breach_end, b.duration_s,
           CAST(b.peak_seats AS INTEGER) AS peak_seats, b.peak_at,
           CAST(b.seat_limit AS INTEGER) AS seat_limit, CAST(b.max_excess AS INTEGER) AS max_excess,
           strftime(timezone('UTC', b.breach_start), '%Y-%m-%d') AS date
    FROM a_breaches AS b JOIN a_instances AS i USING (ikey)
    ORDER BY i.instance, b.breach_start
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))
