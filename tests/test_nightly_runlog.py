"""The run-record table: columns match the record, rows accumulate per month."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

from auditor.files import new_run_id
from auditor.runlog import RunRecord, append_run, read_runs
from auditor.tables import NIGHTLY_RUNS
from auditor.warehouse import Warehouse


def _record(started: datetime, **kw) -> RunRecord:
    fields = {"status": "ok", "logs": "/var/log/erp", **kw}
    return RunRecord(run_id=new_run_id(started), started_at=started, finished_at=started + timedelta(seconds=3), **fields)


def test_record_fields_are_the_table_columns() -> None:
    assert [f.name for f in dataclasses.fields(RunRecord)] == NIGHTLY_RUNS.columns


def test_run_ids_sort_by_start_time() -> None:
    a = new_run_id(datetime(2026, 11, 29, 23, 59, 59, tzinfo=timezone.utc))
    b = new_run_id(datetime(2026, 11, 30, 0, 0, 0, tzinfo=timezone.utc))
    assert a.startswith("20261129T235959.000000Z-") and a < b


def test_runs_accumulate_by_month_and_read_back(warehouse_dir: Path) -> None:
    wh = Warehouse.open(warehouse_dir, create=True)
    t0 = datetime(2026, 10, 31, 2, 0, tzinfo=timezone.utc)
    records = [
        _record(t0, files_seen=2, files_ingested=1, files_skipped=1, instances_touched=["a.my.erp.net"]),
        _record(t0 + timedelta(days=1), status="failed", failed_stage="audit", error="boom", audit_mode="incremental"),
        _record(t0 + timedelta(days=2), new_breaches=4, ingest_s=1.5, total_s=2.25),
    ]
    for record in records:
        with wh.transaction() as tx:
            append_run(tx, record)
    assert read_runs(wh) == records
    assert sorted(wh.partitions("nightly_runs")) == ["month=2026-10", "month=2026-11"]
    # Engineers query them with SQL like any other table.
    con = wh.connect()
    assert con.execute("select count(*), sum(new_breaches)::int from nightly_runs where status = 'ok'").fetchone() == (2, 4)
    assert con.execute("select instances_touched from nightly_runs order by started_at limit 1").fetchone() == (
        ["a.my.erp.net"],
    )
