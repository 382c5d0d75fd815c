-- set_csv_header: tell queries/ingest/fields_csv.sql the column names of the CSV file being read.
-- Parameters: $header VARCHAR[] — the header row's names, trimmed, in order.
SET VARIABLE ingest_csv_header = $header::VARCHAR[]
