-- polled_seen: each session the polls listed (rule 1's identity), with what its listings say: its
-- start, the last poll that listed it, its latest request, its absolute expiry, and the user,
-- device and applications of its latest listing. A table of its own, so that the statements
-- after it join it knowing its size (far fewer rows than the polls).
-- Reads: a_poll_rows_in. Parameters: none.
CREATE OR REPLACE TEMP TABLE a_polled_seen AS
WITH listed AS (
    SELECT instance, polled_at,
           coalesce(session_id,
                    concat_ws('|', coalesce("user", ''), strftime(start_time, '%Y-%m-%dT%H:%M:%S.%fZ'),
                              coalesce(device, ''), coalesce(applications, ''))) AS session_id,
           "user", start_time, last_request_time, absolute_expiration_time, applications, device
    FROM a_poll_rows_in
)
SELECT instance, session_id,
       least(min(start_time), min(polled_at)) AS start_ts,
       max(polled_at) AS last_seen,
       max(last_request_time) AS last_activity_ts,
       max(absolute_expiration_time) AS expiry_ts,
       arg_max_null({'user': "user", 'device': device, 'app': applications}, polled_at) AS latest
FROM listed
GROUP BY instance, session_id
