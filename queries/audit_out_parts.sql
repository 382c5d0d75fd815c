-- audit_out_parts: the partitions that receive rows from this audit, per output table (an
-- incremental audit must rewrite each of them with the stored rows it keeps).
-- Reads: the a_out_* views. Parameters: none.
SELECT 'sessions' AS tbl, part FROM a_out_sessions GROUP BY part
UNION ALL SELECT 'usage_steps', part FROM a_out_usage_steps GROUP BY part
UNION ALL SELECT 'breaches', part FROM a_out_breaches GROUP BY part
UNION ALL SELECT 'daily_usage', part FROM a_out_daily_usage GROUP BY part
UNION ALL SELECT 'daily_levels', part FROM a_out_daily_levels GROUP BY part
UNION ALL SELECT 'session_state', part FROM a_out_session_state GROUP BY part
