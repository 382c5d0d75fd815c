-- new_breaches: the breaches this audit gives that the warehouse did not hold before it:
-- (instance, breach_start) not among the old rows of the breaches partitions it replaces.
-- Every breach it gives lies in such a partition, and the rows of the others are kept as
-- they were, so those old rows are all the comparison needs (not the whole history).
-- Reads: a_out_breaches, h_replaced_breaches (the old rows). Parameters: none.
SELECT instance, breach_start FROM a_out_breaches
EXCEPT
SELECT instance, breach_start FROM h_replaced_breaches
ORDER BY instance, breach_start
