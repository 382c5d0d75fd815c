-- poll_from: per re-audited instance, the instant t0 from which its polls, the sessions they
-- listed and its audit-log entries are read again: its restart point q less the login match
-- window (a login just after q is matched against sessions that started just before it), or
-- earlier, the polling interval before the local midnight d0 of its restart day (every poll that
-- covers an instant of that day, which is recomputed whole). Instances kept whole are left out
-- of polls_in altogether (q infinite); a full audit has no restart point.
-- Reads: a_restart_points. Parameters: $match_us, $poll_interval_us.
CREATE OR REPLACE TEMP TABLE a_poll_from AS
SELECT instance, isinf(q) AS kept_whole,
       CASE WHEN NOT isinf(q) THEN least(q - to_microseconds(CAST($match_us AS BIGINT)),
                                         d0 - to_microseconds(CAST($poll_interval_us AS BIGINT))) END AS t0
FROM a_restart_points
