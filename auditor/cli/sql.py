"""``auditor sql``: ad hoc queries over the warehouse's tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli.options import warehouse_option
from auditor.output import write_rows
from auditor.sqlquery import run_sql
from auditor.warehouse import Warehouse


@click.command()
@warehouse_option
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="How to print the result on stdout.",
)
@click.option(
    "--param",
    "-p",
    "params",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="A named parameter, used in the query as $NAME.",
)
@click.option(
    "--unrestricted",
    is_flag=True,
    help="Run any statement (COPY, INSTALL, ATTACH, SET, ...) with your own file and network access.",
)
@click.argument("query")
def sql(warehouse: Path, fmt: str, params: tuple[tuple[str, str], ...], unrestricted: bool, query: str) -> None:
    """Run QUERY in DuckDB over the warehouse's tables (QUERY '-' reads stdin).

    Every table is a view: events, rejects, ingest_log and the audit's tables.
    Times are shown in UTC. Example:

        auditor sql "SELECT instance, count(*) FROM events GROUP BY ALL"

    QUERY only reads: SELECT (with DESCRIBE, SHOW, SUMMARIZE), CALL, EXPLAIN and
    PRAGMA table_info run, on the warehouse's own files only. To save a result,
    redirect it: auditor sql -f csv QUERY > out.csv. --unrestricted runs any
    statement with your file and network access (it can damage the warehouse).
    """
    text = sys.stdin.read() if query == "-" else query
    result = run_sql(Warehouse.open(warehouse), text, dict(params), unrestricted=unrestricted)
    write_rows(result.columns, result.rows, fmt, sys.stdout)
