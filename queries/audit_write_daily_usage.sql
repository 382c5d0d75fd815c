-- audit_write_daily_usage: the daily_usage table as Parquet, one folder per local day
-- (day=YYYY-MM-DD).
-- Reads: a_daily. Parameters: $dir (the folder to write under).
COPY (
    SELECT instance, day, peak_seats, peak_at, seat_limit, seconds_over_limit, breach_count, denials,
           sessions, distinct_users, distinct_devices,
           strftime(day, '%Y-%m-%d') AS part
    FROM a_daily
    ORDER BY instance, day
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))
