-- run_facts: what the next incremental audit needs to know about this one: the longest
-- segment it computed, and the UTC dates of the sessions partitions that hold 'open' segments
-- (every stored open segment is relabeled by this audit, so those are all there are).
-- Reads: a_sessions, a_out_sessions. Parameters: none.
SELECT (SELECT max(epoch_us(end_ts) - epoch_us(start_ts)) FROM a_sessions) AS max_segment_us,
       (SELECT list(DISTINCT CAST(timezone('UTC', start_ts) AS DATE) ORDER BY CAST(timezone('UTC', start_ts) AS DATE))
          FROM a_out_sessions WHERE end_reason = 'open') AS open_dates
