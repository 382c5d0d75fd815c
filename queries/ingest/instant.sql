-- instant: the macros that read an instant written as text, shared by the log and snapshot statements.
-- Defines ingest_instant(text) -> TIMESTAMPTZ (NULL when TEXT is not an instant) and
-- instant_problem(name, text, value, not_before, not_after) -> VARCHAR (why VALUE, read from TEXT,
-- cannot be accepted, NULL when it can or TEXT is absent).
-- The cast alone would also take a bare date or 'infinity': insist on a date and a time (T or a
-- space between them); the cast checks the rest, offset included. Without an offset the instant
-- is UTC (the connection's time zone is UTC). Also trim_if_padded(text): TEXT without leading and
-- trailing spaces, trimmed only when it has some (trim() builds a new string for every value).
-- Parameters: none.
CREATE OR REPLACE TEMP MACRO ingest_instant(t) AS
    CASE WHEN t LIKE '____-__-__T__:__:__%' OR t LIKE '____-__-__ __:__:__%' THEN TRY_CAST(t AS TIMESTAMPTZ) END;
CREATE OR REPLACE TEMP MACRO instant_problem(name, t, v, not_before, not_after) AS
    CASE
        WHEN t IS NULL THEN NULL
        WHEN v IS NULL THEN name || ' is not a timestamp'
        WHEN v < not_before THEN name || ' too old'
        WHEN v > not_after THEN name || ' in the future'
    END;
CREATE OR REPLACE TEMP MACRO trim_if_padded(t) AS
    CASE WHEN starts_with(t, ' ') OR ends_with(t, ' ') THEN trim(t) ELSE t END;
