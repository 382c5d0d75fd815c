"""The nightly batch's run records: one row per run in the table ``nightly_runs``.

Rows are kept in one Parquet file per month of the run's start
(``nightly_runs/month=YYYY-MM``): a run rewrites at most a month's thirty-odd
rows, and a year of nights is twelve files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

from auditor.tables import NIGHTLY_RUNS
from auditor.warehouse import Transaction, Warehouse, read_table

TABLE = "nightly_runs"


@dataclass
class RunRecord:
    """One nightly run, as stored (the fields are the columns of ``nightly_runs``)."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str  # ok | failed
    logs: str
    failed_stage: str | None = None
    error: str | None = None
    reports_dir: str | None = None
    ingest_run_id: str | None = None
    files_seen: int = 0
    files_ingested: int = 0
    files_skipped: int = 0
    events_read: int = 0
    events_accepted: int = 0
    events_duplicates: int = 0
    events_rejected: int = 0
    audit_mode: str = "none"  # incremental | full | none
    instances_touched: list[str] = field(default_factory=list)
    new_breaches: int = 0
    new_findings: int | None = 0
    reports_rendered: int = 0
    ingest_s: float = 0.0
    audit_s: float = 0.0
    report_s: float = 0.0
    total_s: float = 0.0


def append_run(tx: Transaction, record: RunRecord) -> None:
    """Add RECORD to ``nightly_runs`` in TX (committed with whatever else TX holds)."""
    partition = NIGHTLY_RUNS.partitioning.key(record.started_at)
    current = tx.partitions(TABLE).get(partition)
    rows = pq.read_table(current, schema=NIGHTLY_RUNS.schema) if current else NIGHTLY_RUNS.schema.empty_table()
    new = pa.Table.from_pylist([dataclasses.asdict(record)], schema=NIGHTLY_RUNS.schema)
    tx.write(TABLE, partition, pa.concat_tables([rows, new]))


def read_runs(warehouse: Warehouse) -> list[RunRecord]:
    """Every recorded run, oldest first."""
    rows = read_table(warehouse, TABLE).to_pylist()
    return sorted((RunRecord(**row) for row in rows), key=lambda r: (r.started_at, r.run_id))
