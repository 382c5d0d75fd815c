-- audit_day_breaches_all: the breaches a full audit's days are computed from: its own.
-- Reads: a_breaches. Parameters: none.
CREATE OR REPLACE TEMP VIEW a_day_breaches AS
SELECT ikey, breach_start FROM a_breaches
