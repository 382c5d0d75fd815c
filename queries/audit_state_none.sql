-- audit_state_none: no stored session state (a full audit reads every event itself).
-- Parameters: none.
CREATE OR REPLACE TEMP TABLE a_session_state_in AS
SELECT *, CAST(0 AS INTEGER) AS segments_before FROM session_state WHERE false
