-- finding_text: how the findings' evidence names things: up to five names ("A, B and C"; "A, B, C, D
-- and 7 more"), and a span of local time ("on 2026-10-14 from 09:05 to 10:40", "on 2026-10-14 at
-- 09:05", "from 2026-10-14 23:50 to 2026-10-15 00:20"). Two macros, defined once for every kind.
-- Reads: nothing. Parameters: none.
CREATE OR REPLACE TEMP MACRO a_finding_names(names) AS
    CASE WHEN len(names) = 1 THEN names[1]
         WHEN len(names) <= 5 THEN array_to_string(names[1:len(names) - 1], ', ') || ' and ' || names[len(names)]
         ELSE array_to_string(names[1:4], ', ') || ' and ' || CAST(len(names) - 4 AS VARCHAR) || ' more' END;

CREATE OR REPLACE TEMP MACRO a_finding_span(t0, t1, tz) AS
    CASE WHEN strftime(timezone(tz, t0), '%Y-%m-%d %H:%M') = strftime(timezone(tz, t1), '%Y-%m-%d %H:%M')
              THEN 'on ' || strftime(timezone(tz, t0), '%Y-%m-%d at %H:%M')
         WHEN CAST(timezone(tz, t0) AS DATE) = CAST(timezone(tz, t1) AS DATE)
              THEN 'on ' || strftime(timezone(tz, t0), '%Y-%m-%d from %H:%M') || ' to ' || strftime(timezone(tz, t1), '%H:%M')
         ELSE 'from ' || strftime(timezone(tz, t0), '%Y-%m-%d %H:%M') || ' to ' || strftime(timezone(tz, t1), '%Y-%m-%d %H:%M') END;
