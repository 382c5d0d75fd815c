-- time_zones: every time zone name DuckDB's ICU knows, the ones the audit's
-- statements can convert to and from; an entitlement's zone must be one of them.
-- Reads: pg_timezone_names() (no table). Parameters: none.
SELECT name FROM pg_timezone_names()
