"""The one loader of ``queries/*.sql``.

Each file holds one statement with ``$named`` parameters and a header comment
saying what it computes. The same file runs unchanged in the DuckDB CLI once its
parameters are set with ``SET VARIABLE`` / ``PREPARE`` — nothing is ever
formatted into the SQL text here.
"""

from __future__ import annotations

import functools
from typing import Any

import duckdb

from auditor.errors import AuditorError
from auditor.resources import queries_dir


class QueryError(AuditorError):
    """A packaged query is missing or failed; the message names the file."""


@functools.cache
def load_query(name: str) -> str:
    """The text of ``queries/NAME.sql`` (NAME is ``stage/file``, e.g. ``audit/segments``)."""
    path = queries_dir() / f"{name}.sql"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueryError(f"no query file {name}.sql in {queries_dir()}") from None
    if not text.strip():
        raise QueryError(f"query file {name}.sql is empty")
    return text


def query_names() -> list[str]:
    """Every packaged query, named as ``load_query`` takes it (``audit/segments``), in a stable order."""
    root = queries_dir()
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.sql")
                  if p.read_text(encoding="utf-8").strip())


def run_query(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute ``queries/NAME.sql`` with named parameters; errors name the file."""
    try:
        return con.execute(load_query(name), params or {})
    except duckdb.Error as exc:
        raise QueryError(f"queries/{name}.sql failed: {exc}") from exc
