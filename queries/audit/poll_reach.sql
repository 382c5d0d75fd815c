-- poll_reach: how many re-audited instances have successful polls from their a_poll_from instant
-- on but none read before it: the latest one before it (where the coverage gap across that instant
-- starts) may lie in polls not read yet.
-- Reads: a_poll_from, h_polls. Parameters: none.
SELECT count(*)
FROM a_poll_from AS f
WHERE NOT f.kept_whole
  AND EXISTS (SELECT 1 FROM h_polls AS p WHERE p.instance = f.instance AND p.ok AND p.polled_at >= f.t0)
  AND NOT EXISTS (SELECT 1 FROM h_polls AS p WHERE p.instance = f.instance AND p.ok AND p.polled_at < f.t0)
