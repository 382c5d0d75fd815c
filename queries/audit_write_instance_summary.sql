-- audit_write_instance_summary: the instance_summary table as one Parquet file.
-- Reads: a_summary. Parameters: $path (the file to write).
COPY (
    SELECT instance, customer, plan, timezone, period_start, period_end, seat_limit, plan_maximum,
           peak_seats, peak_at, p95_seats, seconds_over_limit, breach_count, denials, status,
           recommended_seat_limit, recommended_extra_sessions, fits_plan_maximum
    FROM a_summary
    ORDER BY instance
) TO $path (FORMAT parquet, COMPRESSION zstd)
