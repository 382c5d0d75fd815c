-- expiry_pointers: the expiry points as arrays for the pointer chase in Python.
-- Reads: a_expiry_points. Parameters: none.
SELECT n, first_in_island, next_n FROM a_expiry_points ORDER BY n
