-- counts: the number of rows the audit computed for each table.
-- Reads: a_sessions, a_steps, a_breaches, a_daily, v_verdict. Parameters: none.
SELECT (SELECT count(*) FROM a_sessions) AS sessions,
       (SELECT count(*) FROM a_steps) AS usage_steps,
       (SELECT count(*) FROM a_breaches) AS breaches,
       (SELECT count(*) FROM a_daily) AS daily_usage,
       (SELECT count(*) FROM v_verdict) AS instance_summary
