"""Ad hoc SQL over a warehouse (the library side of ``auditor sql``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from auditor.errors import UsageError
from auditor.warehouse import Warehouse


class QueryFailedError(UsageError):
    """The user's query did not run."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_sql(warehouse: Warehouse, query: str, params: dict[str, str] | None = None) -> QueryResult:
    if not query.strip():
        raise QueryFailedError("the query is empty; pass SQL as an argument or '-' to read it from stdin")
    con = warehouse.connect()
    try:
        cursor = con.execute(query, params or None)
        if cursor.description is None:
            return QueryResult([], [])
        return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
    except duckdb.Error as exc:
        first = " ".join(str(exc).split())
        raise QueryFailedError(f"the query failed: {first}") from None
    finally:
        con.close()
