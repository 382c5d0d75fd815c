-- audit_new_breaches: the breaches this audit computed that the warehouse did not hold before
-- it: (instance, breach_start) not among the old rows of the breaches partitions it replaces.
-- Every breach it computes lies in such a partition, and the rows of the others are kept as
-- they were, so those old rows are all the comparison needs (not the whole history).
-- Reads: a_out_breaches. Parameters: $files (the stored partitions this audit replaces).
SELECT instance, breach_start FROM a_out_breaches
EXCEPT
SELECT instance, breach_start FROM read_parquet($files, hive_partitioning = false)
ORDER BY instance, breach_start
