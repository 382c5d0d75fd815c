-- audit_day_steps_all: the usage steps a full audit's days are computed from: its own.
-- Reads: a_steps. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_steps AS
SELECT ikey, step_start, step_end, seats_in_use, seat_limit FROM a_steps
