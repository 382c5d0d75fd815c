"""The Python entry point for engineers and notebooks: ``auditor.open(path)``.

``WarehouseReader`` pins one commit of a warehouse (``auditor.warehouse.Snapshot``)
and holds the warehouse's readers' lock while it is open, so the files of that
commit stay on disk whatever nightly runs commit meanwhile: every LazyFrame and
every query it gives reads exactly that commit until ``refresh()`` moves it to
the latest one. ``close()`` (or leaving a ``with`` block, or the object being
garbage-collected, or the process ending) lets writers delete replaced files again.

polars loads when the first LazyFrame is made, so ``import auditor`` stays cheap.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import duckdb

from auditor.errors import UsageError
from auditor.tables import TABLES
from auditor.warehouse import ReadersHold, Snapshot, Warehouse, new_connection

if TYPE_CHECKING:
    import polars as pl


class WarehouseClosedError(UsageError):
    """A closed WarehouseReader was asked for data."""


class UnknownTableError(UsageError, KeyError):
    """A table name the warehouse does not declare."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class _Resources:
    """What an open reader holds: the readers' lock and its DuckDB connection. Released once."""

    def __init__(self, hold: ReadersHold) -> None:
        self.hold = hold
        self.con: duckdb.DuckDBPyConnection | None = None

    def release(self) -> None:
        if self.con is not None:
            con, self.con = self.con, None
            con.close()
        self.hold.release()


class WarehouseReader:
    """One committed state of a warehouse, for reading from Python.

    ``tables()`` names the tables, ``table(name)`` gives a ``polars.LazyFrame`` and
    ``sql(query, **params)`` a DuckDB relation, all over the same commit.
    """

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        # The lock before the manifest: once held, no writer deletes the files of the commit read next.
        self._resources = _Resources(warehouse.hold_readers_lock())
        self._finalizer = weakref.finalize(self, self._resources.release)
        try:
            self._snapshot = self._pin()
        except BaseException:
            self._finalizer()
            raise
        self._closed = False

    def _pin(self) -> Snapshot:
        snapshot = self._warehouse.snapshot()
        snapshot.check_files()
        return snapshot

    # -- what it is ---------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The warehouse directory (absolute)."""
        return self._warehouse.root

    @property
    def generation(self) -> int:
        """The pinned commit's number: each run's commit adds one."""
        return self._snapshot.manifest.generation

    @property
    def snapshot(self) -> Snapshot:
        """The pinned commit's files (``auditor.warehouse.Snapshot``)."""
        return self._snapshot

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"commit {self.generation}"
        return f"<auditor warehouse {self.path} ({state})>"

    # -- reading ------------------------------------------------------------------
    def tables(self) -> dict[str, str]:
        """Every table's name and what one row is, in the order the pipeline writes them."""
        return {name: table.description for name, table in TABLES.items()}

    def table(self, name: str) -> pl.LazyFrame:
        """TABLE as a ``polars.LazyFrame`` over exactly the pinned commit's files of it.

        Columns and types are the table's declared ones (timestamps are UTC
        ``Datetime("us", "UTC")``), also when the table has no rows yet. Nothing is
        read until the frame is collected; it keeps reading this commit after a
        ``refresh()``, as long as the reader is open.
        """
        import polars as pl

        self._check_open()
        if name not in TABLES:
            raise UnknownTableError(f"no table {name!r} in the warehouse; the tables are: {', '.join(TABLES)}")
        schema = pl.from_arrow(TABLES[name].schema.empty_table()).schema
        files = self._snapshot.files(name)
        if not files:
            return pl.LazyFrame(schema=schema)
        # Files written before a column was declared read it as nulls, as the DuckDB views do.
        return pl.scan_parquet(
            [str(f) for f in files],
            schema=schema,
            hive_partitioning=False,
            missing_columns="insert",
            extra_columns="ignore",
        )

    def sql(self, query: str, **params: Any) -> duckdb.DuckDBPyRelation | None:
        """Run QUERY in DuckDB with every table as a view over the pinned commit; ``$name`` takes PARAMS[name].

        Returns what DuckDB's ``connection.sql`` does, for a query a relation: it
        prints as a table, ``.pl()`` (polars), ``.df()`` (pandas, if installed),
        ``.arrow()`` and ``.fetchall()`` run it, and it can be queried further. The
        connection is the reader's own, in UTC, with your file access, as DuckDB's
        is; errors are DuckDB's own (``duckdb.Error``).
        """
        con = self._connection()
        return con.sql(query, params=params or None)

    def refresh(self) -> Self:
        """Move to the warehouse's latest commit (LazyFrames made before keep theirs); returns the reader."""
        self._check_open()
        snapshot = self._pin()
        self._snapshot = snapshot
        if self._resources.con is not None:
            for statement in snapshot.view_sql():
                self._resources.con.execute(statement)
        return self

    # -- closing ------------------------------------------------------------------
    def close(self) -> None:
        """Let go of the commit: its DuckDB connection closes, and writers may delete the files it replaced."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise WarehouseClosedError(f"this reader of {self.path} is closed; open it again with auditor.open()")

    def _connection(self) -> duckdb.DuckDBPyConnection:
        self._check_open()
        if self._resources.con is None:
            con = new_connection()
            try:
                for statement in self._snapshot.view_sql():
                    con.execute(statement)
            except BaseException:
                con.close()
                raise
            self._resources.con = con
        return self._resources.con


def open_warehouse(path: str | os.PathLike[str] | None = None) -> WarehouseReader:
    """The warehouse at PATH (None: ``$AUDITOR_WAREHOUSE``, else ``./warehouse``), pinned at its last commit."""
    return WarehouseReader(Warehouse.open(Path(path) if path is not None else None))
