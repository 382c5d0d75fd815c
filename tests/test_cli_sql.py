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


def test_the_cli_starts_without_loading_the_chart_drawing() -> None:
    # Every command pays the CLI's import time; only reports need Pillow.
    import subprocess
    import sys

    code = "import sys, auditor.cli; sys.exit('PIL' in sys.modules or 'auditor.report.charts' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- by default a query only reads the warehouse ------------------------------------------------

import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402

import duckdb  # noqa: E402
import pytest  # noqa: E402

from auditor.ingest import ingest  # noqa: E402
from tests.ingest_support import event, write_events  # noqa: E402


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with a day of events; tests that could damage it copy it first."""
    root = tmp_path_factory.mktemp("sql")
    log = write_events(root / "day.jsonl", [event(ts=f"2026-10-01T08:{m:02d}:00Z", session_id=f"s{m}") for m in range(12)])
    ingest(Warehouse.open(root / "wh", create=True), [log])
    return root / "wh"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


def _refused(result, word: str) -> None:
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("auditor: error: auditor sql only reads the warehouse's tables"), result.stderr
    assert word in result.stderr and "--format csv" in result.stderr and "--unrestricted" in result.stderr
    assert result.stdout == ""


def test_copy_to_a_file_or_into_the_warehouse_is_refused_and_writes_nothing(invoke, filled: Path, tmp_path: Path) -> None:
    before = _snapshot(filled)
    partition = Warehouse.open(filled).files("events")[0]
    targets = [tmp_path / "out.csv", partition, filled / "manifest.json", filled / "new.csv"]
    for target in targets:
        copy = f"COPY (SELECT 1 AS n) TO '{target}'"
        _refused(invoke("sql", "-w", filled, copy), "COPY")
        # Hidden behind another statement, or behind EXPLAIN ANALYZE (which runs what it explains):
        _refused(invoke("sql", "-w", filled, f"SELECT 1; {copy}"), "COPY")
        _refused(invoke("sql", "-w", filled, f"EXPLAIN ANALYZE /* x */ {copy}"), "EXPLAIN")
    _refused(invoke("sql", "-w", filled, f"EXPORT DATABASE '{tmp_path / 'export'}'"), "EXPORT")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "export").exists()
    assert _snapshot(filled) == before


def test_files_outside_the_warehouse_cannot_be_read(invoke, filled: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    for path in [secret, Path("/etc/hostname"), filled / ".." / "day.jsonl"]:
        result = invoke("sql", "-w", filled, f"SELECT content FROM read_text('{path}')")
        assert result.exit_code == ExitCode.USAGE, result.output
        assert result.stderr.count("\n") == 1 and "Permission Error" in result.stderr, result.stderr
        assert "--unrestricted" in result.stderr and "s3cret" not in result.stdout


def test_install_is_refused_without_touching_the_network_or_the_extension_folder(invoke, filled: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for statement in ("INSTALL httpfs", "FORCE INSTALL httpfs FROM core", "LOAD httpfs"):
        result = invoke("sql", "-w", filled, statement, env={"HOME": str(home)})
        _refused(result, statement.split()[0])
    # DuckDB creates ~/.duckdb/extensions before it downloads anything.
    assert list(home.iterdir()) == []
    remote = invoke("sql", "-w", filled, "SELECT * FROM read_csv('https://example.com/x.csv')", env={"HOME": str(home)})
    assert remote.exit_code == ExitCode.USAGE and "Permission Error" in remote.stderr, remote.output
    assert list(home.iterdir()) == []


def test_settings_cannot_be_changed_back(invoke, filled: Path) -> None:
    for statement in ("SET lock_configuration = false", "RESET enable_external_access", "SET enable_external_access = true",
                      "PRAGMA enable_profiling", "ATTACH ':memory:' AS x", "USE memory",
                      "CREATE TABLE t AS SELECT 1", "PIVOT events ON event USING count(*)"):
        result = invoke("sql", "-w", filled, statement)
        assert result.exit_code == ExitCode.USAGE and result.stderr.count("\n") == 1, (statement, result.output)
        assert "auditor sql only reads" in result.stderr
    # A function that would change a setting meets the locked configuration.
    locked = invoke("sql", "-w", filled, "SELECT * FROM enable_logging()")
    assert locked.exit_code == ExitCode.USAGE and "locked" in locked.stderr, locked.output


def test_statements_that_only_read_run(invoke, filled: Path) -> None:
    for statement in ("DESCRIBE events", "SHOW TABLES", "SUMMARIZE events", "PRAGMA table_info('events')",
                      "EXPLAIN SELECT count(*) FROM events", "EXPLAIN ANALYZE SELECT count(*) FROM events",
                      "CALL pragma_table_info('events')", "FROM events LIMIT 1",
                      "PIVOT events ON event IN ('request') USING count(*)",
                      "WITH e AS (SELECT * FROM events) SELECT count(*) FROM e"):
        result = invoke("sql", "-w", filled, "-f", "csv", statement)
        assert result.exit_code == 0, (statement, result.output)
        assert result.stderr == "" and result.stdout, statement


def test_the_readme_sql_examples_run(invoke, filled: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    lines = [line for block in re.findall(r"```bash\n(.*?)```", readme, re.S) for line in block.splitlines()]
    # Every example of the command, not its synopsis ("auditor sql [--warehouse DIR] ...").
    examples = [line for line in lines if "auditor sql" in line and "[--" not in line and not line.startswith("#")]
    assert len(examples) >= 6
    for line in examples:
        stdin = None
        if "|" in line:
            feed, line = (part.strip() for part in line.split("|", 1))
            stdin = shlex.split(feed)[1] + "\n"
        args = shlex.split(line)
        assert args[:2] == ["auditor", "sql"], line
        if args[2] in ("-w", "--warehouse"):  # an example's own warehouse: this test's stands in for it
            del args[2:4]
        result = invoke("sql", "-w", filled, *args[2:], input=stdin)
        assert result.exit_code == 0, (line, result.output)


def test_unrestricted_runs_any_statement(invoke, filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = invoke("sql", "-w", filled, "--unrestricted", f"COPY (SELECT count(*) AS n FROM events) TO '{out}'")
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == ["n", "12"]
    assert "--unrestricted" in invoke("sql", "--help").stdout


def test_a_confined_connection_reads_every_view(filled: Path) -> None:
    con = Warehouse.open(filled).connect(confined=True)
    try:
        for (table,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
            con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert os.access(filled, os.W_OK)
