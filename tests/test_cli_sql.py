"""`auditor sql`: formats, stdin, parameters and errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from auditor.exitcodes import ExitCode
from auditor.warehouse import Warehouse


def test_sql_formats(invoke, warehouse_dir: Path) -> None:
    Warehouse.open(warehouse_dir, create=True)
    q = "select 1 as n, 'a,b' as s, TIMESTAMPTZ '2026-01-02 03:04:05Z' as t"
    table = invoke("sql", "-w", warehouse_dir, q)
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split() == ["n", "s", "t"]
    assert "2026-01-02T03:04:05+00:00" in table.stdout
    rows = list(csv.reader(io.StringIO(invoke("sql", "-w", warehouse_dir, "-f", "csv", q).stdout)))
    assert rows == [["n", "s", "t"], ["1", "a,b", "2026-01-02T03:04:05+00:00"]]
    data = json.loads(invoke("sql", "-w", warehouse_dir, "--format", "json", q).stdout)
    assert data == [{"n": 1, "s": "a,b", "t": "2026-01-02T03:04:05+00:00"}]


def test_sql_reads_stdin_and_named_parameters(invoke, warehouse_dir: Path) -> None:
    Warehouse.open(warehouse_dir, create=True)
    result = invoke("sql", "-w", warehouse_dir, "-f", "csv", "-p", "who", "o'brien", "-", input="select $who as who")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["who", "o'brien"]


def test_sql_views_exist_on_an_empty_warehouse(invoke, warehouse_dir: Path) -> None:
    Warehouse.open(warehouse_dir, create=True)
    for view in ("events", "rejects", "ingest_log"):
        result = invoke("sql", "-w", warehouse_dir, "-f", "csv", f"select count(*) as n from {view}")
        assert result.stdout.splitlines() == ["n", "0"], result.output


def test_sql_errors_are_one_line_with_exit_2(invoke, tmp_path: Path) -> None:
    missing = invoke("sql", "-w", tmp_path / "nowhere", "select 1")
    assert missing.exit_code == ExitCode.USAGE
    assert missing.stderr.count("\n") == 1 and "auditor ingest" in missing.stderr
    Warehouse.open(tmp_path / "wh", create=True)
    bad = invoke("sql", "-w", tmp_path / "wh", "selec 1")
    assert bad.exit_code == ExitCode.USAGE and bad.stderr.startswith("auditor: error: the query failed")
    assert bad.stdout == ""
    usage = invoke("sql", "--format", "xml", "select 1")
    assert usage.exit_code == ExitCode.USAGE
    assert usage.stderr.count("\n") == 1 and "--help" in usage.stderr


def test_the_cli_starts_without_loading_matplotlib() -> None:
    # Every command pays the CLI's import time; only reports need matplotlib.
    import subprocess
    import sys

    code = "import sys, auditor.cli; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
