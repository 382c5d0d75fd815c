"""Ingest: connection-log files (JSON Lines or CSV, plain, gzip or zstd) and snapshot files into the warehouse.

``sources`` finds the files, ``reader`` cuts them into numbered lines,
``staging`` validates, normalises and de-duplicates them with DuckDB (``snapshots``
does so for polls of ERP.net's live sessions and audit-log rows), and
``pipeline`` runs it all in one warehouse transaction.
"""

from auditor.ingest.pipeline import ingest, ingest_sources, known_file_hashes
from auditor.ingest.results import FileResult, IngestResult

__all__ = ["FileResult", "IngestResult", "ingest", "ingest_sources", "known_file_hashes"]
