-- audit_day_inputs_all: what a full audit's days are computed from: its own sessions (the
-- view a_day_sessions; steps, breaches and refused logins follow in their own files).
-- Reads: a_sessions. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_sessions AS
SELECT ikey, counted, start_ts, end_ts, "user", device FROM a_sessions
