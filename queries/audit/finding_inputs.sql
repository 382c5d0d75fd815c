-- finding_inputs: what the licence-term findings read, per instance from its a_finding_from instant t0
-- (everything in a full audit; nothing of the instances kept whole):
--   a_finding_segments: the log segments that reach t0 or later: this audit's, and the stored ones
--     (they start before the restart point q) that end at or after t0;
--   a_finding_events: from t0 on, the logins and logouts, and the requests that name a user or a device
--     (all the findings look at: a request that names neither shows no sharing), read once;
--   a_finding_steps: the usage steps (upper bound) that reach t0 (the one just before a logout at t0 too),
--     with the instance's name (this audit's, and the stored ones before q: one running across q
--     audit/splice_steps joined to this audit's).
-- Reads: a_sessions, a_steps, a_instances, h_sessions, h_events, a_kept_steps, a_finding_from.
-- Parameters: none.
CREATE OR REPLACE TEMP TABLE a_finding_segments AS
SELECT instance, session_id, segment, start_ts, end_ts, seats, counted, "user", device
FROM a_sessions
WHERE source = 'log'
UNION ALL
SELECT s.instance, s.session_id, s.segment, s.start_ts, s.end_ts, s.seats, s.counted, s."user", s.device
FROM h_sessions AS s
JOIN a_finding_from AS f ON f.instance = s.instance AND s.start_ts < f.q AND s.end_ts >= f.t0
WHERE s.source = 'log';

CREATE OR REPLACE TEMP TABLE a_finding_events AS
SELECT e.instance, e.ts, CASE e.event WHEN 'login' THEN 0 WHEN 'request' THEN 1 ELSE 2 END AS ord,
       e.event, e.session_id, e."user", e.user_type, e.device
FROM h_events AS e
ANTI JOIN a_finding_from AS f ON f.instance = e.instance AND e.ts < f.t0
WHERE e.event IN ('login', 'logout') OR (e.event = 'request' AND (e.device IS NOT NULL OR e."user" IS NOT NULL));

CREATE OR REPLACE TEMP TABLE a_finding_steps AS
SELECT i.instance, s.step_start, s.step_end, s.seats_in_use, s.seat_limit
FROM a_steps AS s JOIN a_instances AS i USING (ikey)
UNION ALL
SELECT s.instance, s.step_start, s.step_end, s.seats_in_use, s.seat_limit
FROM a_kept_steps AS s
JOIN a_finding_from AS f ON f.instance = s.instance AND s.step_end >= f.t0
