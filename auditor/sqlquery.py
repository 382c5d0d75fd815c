"""Ad hoc SQL over a warehouse (the library side of ``auditor sql``).

By default a query only reads: each of its statements must be one that reads
(checked with DuckDB's own parser), and it runs on a confined connection that can
read the warehouse's committed files and nothing else, load no extension and
change none of its settings (``Warehouse.connect(confined=True)``). So a query
can neither overwrite the warehouse nor read or write other files nor reach the
network. Results leave through stdout (``--format csv|json``).
``unrestricted=True`` runs any statement with the user's own file and network access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from auditor.errors import UsageError
from auditor.warehouse import Warehouse

#: Statements that only read. DESCRIBE, SHOW, SUMMARIZE, VALUES and FROM-first
#: queries are parsed as SELECT; CALL runs a table function, as SELECT * FROM can.
_READING = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.CALL})
#: PRAGMAs that only describe the database (others change settings or load files).
_DESCRIBING_PRAGMAS = frozenset({
    "collations", "database_size", "functions", "platform", "show", "show_databases", "show_tables",
    "show_tables_expanded", "table_info", "version",
})

_HOW_TO_EXPORT = (
    "to save a result, print it with --format csv or --format json and redirect it (auditor sql -f csv QUERY > out.csv); "
    "--unrestricted runs any statement with your own file and network access"
)


class QueryFailedError(UsageError):
    """The user's query did not run."""


class QueryRefusedError(UsageError):
    """The user's query would do more than read the warehouse."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_sql(
    warehouse: Warehouse, query: str, params: dict[str, str] | None = None, *, unrestricted: bool = False
) -> QueryResult:
    """Run QUERY over WAREHOUSE's tables; only reading statements unless UNRESTRICTED."""
    if not query.strip():
        raise QueryFailedError("the query is empty; pass SQL as an argument or '-' to read it from stdin")
    if not unrestricted:
        check_reads_only(query)
    # The commit it reads keeps its files until the query is done, whatever a nightly run commits meanwhile.
    with warehouse.reading():
        con = warehouse.connect(confined=not unrestricted)
        try:
            cursor = con.execute(query, params or None)
            if cursor.description is None:
                return QueryResult([], [])
            return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
        except duckdb.PermissionException as exc:
            raise QueryFailedError(
                f"the query failed: {_one_line(exc)}; auditor sql reads only the warehouse's tables "
                "(--unrestricted runs the query with your own file and network access)"
            ) from None
        except duckdb.Error as exc:
            raise QueryFailedError(f"the query failed: {_one_line(exc)}") from None
        finally:
            con.close()


def check_reads_only(query: str) -> None:
    """Raise QueryRefusedError unless every statement of QUERY only reads."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryFailedError(f"the query failed: {_one_line(exc)}") from None
    if not statements:
        raise QueryFailedError("the query is empty; pass SQL as an argument or '-' to read it from stdin")
    for statement in statements:
        reason = _refusal(statement)
        if reason is not None:
            raise QueryRefusedError(f"{reason}; {_HOW_TO_EXPORT}")


def _refusal(statement: duckdb.Statement) -> str | None:
    """Why STATEMENT may not run by default; None if it only reads."""
    kind = statement.type
    words = [text for _, text in _tokens(statement.query)]
    if kind in _READING:
        return None
    if kind == duckdb.StatementType.PRAGMA and len(words) > 1 and words[1].lower() in _DESCRIBING_PRAGMAS:
        return None
    if kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs the statement it explains: whatever is explained must only read.
        try:
            explained = duckdb.extract_statements(_explained(statement.query))
        except duckdb.Error:
            explained = []
        if explained and all(_refusal(s) is None for s in explained):
            return None
        return "auditor sql only reads the warehouse's tables and runs EXPLAIN only of statements that read"
    if kind == duckdb.StatementType.MULTI:
        # DuckDB runs a PIVOT whose values are not named as several statements (it creates a type first).
        return (
            "auditor sql only reads the warehouse's tables; a PIVOT must name its values "
            "(PIVOT t ON col IN ('a', 'b') USING ...), else DuckDB runs it as several statements that create types"
        )
    first = words[0].upper() if words and words[0].isalpha() else ""
    what = first if first and first != "WITH" else kind.name
    return f"auditor sql only reads the warehouse's tables and refuses {what} statements"


#: Words that open a query, which EXPLAIN ( ... ) may hold instead of options.
_QUERY_STARTS = frozenset({"SELECT", "WITH", "FROM", "VALUES", "TABLE", "(", "DESCRIBE", "SHOW", "SUMMARIZE"})
#: Words between EXPLAIN and the statement it explains.
_EXPLAIN_OPTIONS = frozenset({"ANALYZE", "ANALYSE", "VERBOSE"})


def _explained(query: str) -> str:
    """The text of the statement an EXPLAIN statement explains ("" if there is none)."""
    tokens = _tokens(query)
    i = 1  # after EXPLAIN
    while i < len(tokens) and tokens[i][1].upper() in _EXPLAIN_OPTIONS:
        i += 1
    if i + 1 < len(tokens) and tokens[i][1] == "(" and tokens[i + 1][1].upper() not in _QUERY_STARTS:
        # EXPLAIN (ANALYZE, FORMAT json) statement: skip the option list.
        depth = 0
        while i < len(tokens):
            depth += tokens[i][1].count("(") - tokens[i][1].count(")")
            i += 1
            if depth <= 0:
                break
    return query[tokens[i][0]:] if i < len(tokens) else ""


def _tokens(query: str) -> list[tuple[int, str]]:
    """QUERY's tokens (start, text) by DuckDB's tokenizer, comments left out."""
    raw = duckdb.tokenize(query)
    tokens = []
    for n, (start, kind) in enumerate(raw):
        if kind != duckdb.token_type.comment:
            end = raw[n + 1][0] if n + 1 < len(raw) else len(query)
            tokens.append((start, query[start:end].strip()))
    return tokens


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
