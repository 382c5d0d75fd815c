-- audit_run_facts: what the next incremental audit needs to know about this one: the
-- latest event time it saw, the longest segment, and the sessions partitions that hold
-- 'open' segments (to relabel once newer data arrives).
-- Reads: a_instances, a_sessions, a_out_sessions, a_kept_sessions. Parameters: none.
SELECT (SELECT max(last_ts) FROM a_instances) AS max_ts,
       (SELECT max(epoch_us(end_ts) - epoch_us(start_ts)) FROM a_sessions) AS max_segment_us,
       (SELECT list(DISTINCT part ORDER BY part) FROM (
            SELECT part, end_reason FROM a_out_sessions
            UNION ALL
            SELECT part, end_reason FROM a_kept_sessions) WHERE end_reason = 'open') AS open_partitions
