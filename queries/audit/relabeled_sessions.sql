-- relabeled_sessions: the stored segments that were 'open' (their deadline lay beyond the
-- latest event of the audit that wrote them), with the end reason the latest event time now
-- gives them: still 'open', or the deadline they reached (idle unless it is the absolute
-- expiry; a restart is an event, so never beyond the latest one). They replace the stored
-- rows (same key), so every partition with an open segment is rewritten and the next audit
-- finds the open segments where this one leaves them. Segments this audit recomputes (from
-- their instance's restart point on) are left out. None for a full audit.
-- Polled sessions are left alone: their end is not a deadline but the next poll, so a stored
-- open one is always recomputed (see audit/covering).
-- Reads: h_open_sessions, a_restart_points. Parameters: $max_ts, $idle_us.
CREATE OR REPLACE TEMP TABLE a_relabeled_sessions AS
SELECT t.* REPLACE (
           CASE WHEN t.end_ts > CAST($max_ts AS TIMESTAMPTZ) THEN 'open'
                WHEN t.end_ts = t.last_activity_ts + to_microseconds(CAST($idle_us AS BIGINT)) THEN 'idle_timeout'
                ELSE 'absolute_expiry' END AS end_reason)
FROM h_open_sessions AS t
WHERE t.end_reason = 'open' AND t.source = 'log'
  AND NOT EXISTS (SELECT 1 FROM a_restart_points AS q WHERE q.instance = t.instance AND t.start_ts >= q.q)
