"""The nightly batch's run records: one row per run in the table ``nightly_runs``.

Rows are kept in one Parquet file per month of the run's start
(``nightly_runs/month=YYYY-MM``): a run rewrites at most a month's thirty-odd
rows, and a year of nights is twelve files.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from auditor.schema import NIGHTLY_RUNS
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
    reports_rendered: int = 0
    ingest_s: float = 0.0
    audit_s: float = 0.0
    report_s: float = 0.0
    total_s: float = 0.0


def new_run_id(now: datetime) -> str:
    """A run id that sorts by start time: ``20261129T020000Z-a1b2c3``."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def partition_of(record: RunRecord) -> str:
    return f"month={record.started_at.astimezone(timezone.utc):%Y-%m}"


def append_run(tx: Transaction, record: RunRecord) -> None:
    """Add RECORD to ``nightly_runs`` in TX (committed with whatever else TX holds)."""
    partition = partition_of(record)
    current = tx.partitions(TABLE).get(partition)
    rows = pq.read_table(current, schema=NIGHTLY_RUNS) if current else NIGHTLY_RUNS.empty_table()
    new = pa.Table.from_pylist([dataclasses.asdict(record)], schema=NIGHTLY_RUNS)
    tx.write(TABLE, partition, pa.concat_tables([rows, new]))


def read_runs(warehouse: Warehouse) -> list[RunRecord]:
    """Every recorded run, oldest first."""
    rows = read_table(warehouse, TABLE).to_pylist()
    return sorted((RunRecord(**row) for row in rows), key=lambda r: (r.started_at, r.run_id))
