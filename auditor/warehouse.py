"""The warehouse: Parquet files, one manifest that says which of them are current.

Layout (``WAREHOUSE/``)::

    manifest.json                  the committed state: table -> partition -> file
    auditor.duckdb                 views over the current files, for engineers
    events/date=YYYY-MM-DD/*.parquet
    rejects/run=RUN_ID/*.parquet
    ingest_log/run=RUN_ID/*.parquet
    ...                            one folder per table in ``auditor.schema.TABLES``
    .lock                          held (flock) by the process writing

Why a manifest: a run rewrites several partitions of several tables, and a run
killed at any point must leave the warehouse as it was before or as after it.
New files are written under fresh names that nothing references; the run then
replaces ``manifest.json`` in one atomic rename, and only after that deletes the
files the old manifest referenced. A crash before the rename leaves orphans that
the next writer deletes; a crash after it leaves garbage that the next writer
deletes. Readers only ever see files some manifest committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.errors import NotAWarehouseError, WarehouseBusyError, WarehouseError
from auditor.schema import TABLES, duckdb_type

MANIFEST_FILE = "manifest.json"
DUCKDB_FILE = "auditor.duckdb"
LOCK_FILE = ".lock"
MANIFEST_FORMAT = 1
ENV_VAR = "AUDITOR_WAREHOUSE"
# duckdb-cli from PyPI (1.5.x) cannot read newer storage versions; engineers open
# auditor.duckdb with whatever DuckDB they have, so write the oldest we can.
DUCKDB_STORAGE_VERSION = "v1.5.0"

_PARTITION_RE = re.compile(r"^[A-Za-z0-9_.=-]+$")


def default_warehouse_path() -> Path:
    """``$AUDITOR_WAREHOUSE``, else ``./warehouse``."""
    return Path(os.environ.get(ENV_VAR) or "warehouse")


def sql_string(value: str) -> str:
    """A SQL string literal. Used only for DDL (views), which takes no parameters."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Manifest:
    generation: int = 0
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"format": MANIFEST_FORMAT, "generation": self.generation, "tables": self.tables, "meta": self.meta},
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, where: Path) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"unknown manifest format {data.get('format')!r}")
            return cls(int(data["generation"]), dict(data["tables"]), dict(data.get("meta") or {}))
        except (ValueError, KeyError, TypeError) as exc:
            raise WarehouseError(f"{where} is damaged ({exc}); restore it from a backup") from None

    def referenced(self) -> set[str]:
        return {rel for parts in self.tables.values() for rel in parts.values()}


class Warehouse:
    """A warehouse directory. Cheap to construct; reads the manifest on demand."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._lock_fd: int | None = None
        self._lock_depth = 0

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = False) -> Warehouse:
        """Open the warehouse at PATH; with ``create``, make it if PATH is new or empty."""
        root = Path(path) if path is not None else default_warehouse_path()
        if root.exists() and not root.is_dir():
            raise NotAWarehouseError(f"{root} is a file, not a warehouse directory; name a directory with --warehouse")
        if (root / MANIFEST_FILE).is_file():
            return cls(root)
        if root.is_dir() and any(root.iterdir()):
            raise NotAWarehouseError(
                f"{root} is not an auditor warehouse (it has no {MANIFEST_FILE}); name a new or empty directory with --warehouse"
            )
        if not create:
            raise NotAWarehouseError(
                f"there is no warehouse at {root}; run `auditor ingest --warehouse {root} LOGS...` first"
            )
        root.mkdir(parents=True, exist_ok=True)
        warehouse = cls(root)
        with warehouse.lock():
            if not (root / MANIFEST_FILE).is_file():
                warehouse._write_manifest(Manifest())
                warehouse.refresh_duckdb_file()
        return warehouse

    # -- reading -----------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def duckdb_path(self) -> Path:
        return self.root / DUCKDB_FILE

    def manifest(self) -> Manifest:
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotAWarehouseError(f"{self.root} is not an auditor warehouse") from None
        return Manifest.from_json(text, self.manifest_path)

    def partitions(self, table: str, manifest: Manifest | None = None) -> dict[str, Path]:
        """The current files of TABLE by partition key, in partition order."""
        parts = (manifest or self.manifest()).tables.get(table, {})
        return {key: self.root / rel for key, rel in sorted(parts.items())}

    def files(self, table: str, manifest: Manifest | None = None) -> list[Path]:
        return list(self.partitions(table, manifest).values())

    def meta(self) -> dict[str, Any]:
        return self.manifest().meta

    def view_sql(self, manifest: Manifest | None = None) -> list[str]:
        """``CREATE VIEW`` statements for every table, over the committed files."""
        manifest = manifest or self.manifest()
        statements = []
        for table, schema in TABLES.items():
            files = self.files(table, manifest)
            if files:
                listing = ", ".join(sql_string(str(f)) for f in files)
                body = f"SELECT * FROM read_parquet([{listing}], hive_partitioning = false)"
            else:
                columns = ", ".join(
                    f"CAST(NULL AS {duckdb_type(f.type)}) AS {_quote_ident(f.name)}" for f in schema
                )
                body = f"SELECT {columns} WHERE false"
            statements.append(f"CREATE OR REPLACE VIEW {_quote_ident(table)} AS {body}")
        return statements

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with a view per table, in UTC."""
        con = duckdb.connect()
        # Day boundaries and casts of TIMESTAMPTZ follow this setting; fix it.
        con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws its progress bar on stdout even when it is not a terminal; stdout is for data.
        con.execute("SET enable_progress_bar = false")
        manifest = self.manifest()
        self._check_files(manifest)
        for statement in self.view_sql(manifest):
            con.execute(statement)
        return con

    def _check_files(self, manifest: Manifest) -> None:
        missing = [rel for rel in sorted(manifest.referenced()) if not (self.root / rel).is_file()]
        if missing:
            raise WarehouseError(
                f"{self.root} references {len(missing)} missing file(s), first {missing[0]}; restore it from a backup"
            )

    # -- writing -----------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the warehouse's write lock (re-entrant within this process).

        flock is released by the kernel when its process dies, so a lock left by
        a killed run is simply free again: the next run takes it over.
        """
        if self._lock_depth == 0:
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                raise WarehouseBusyError(
                    f"warehouse {self.root} is in use by {holder}; wait for that run to finish"
                ) from None
            os.ftruncate(fd, 0)
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            os.pwrite(fd, f"auditor pid {os.getpid()} since {stamp}\n".encode(), 0)
            self._lock_fd = fd
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0 and self._lock_fd is not None:
                os.ftruncate(self._lock_fd, 0)
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Stage new files, then commit them all at once when the block ends.

        An exception inside the block commits nothing; the files it wrote are
        deleted, now or by the next writer.
        """
        with self.lock():
            self.collect_garbage()
            tx = Transaction(self, self.manifest())
            try:
                yield tx
            except BaseException:
                tx.discard()
                raise
            tx.commit()

    def _write_manifest(self, manifest: Manifest) -> None:
        tmp = self.root / f".{MANIFEST_FILE}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(manifest.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.manifest_path)
        _fsync_dir(self.root)

    def refresh_duckdb_file(self) -> None:
        """Rewrite ``auditor.duckdb`` so that its views name the current files."""
        tmp = self.root / f".{DUCKDB_FILE}.{secrets.token_hex(4)}.tmp"
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH {sql_string(str(tmp))} AS w (STORAGE_VERSION '{DUCKDB_STORAGE_VERSION}')")
            con.execute("USE w")
            for statement in self.view_sql():
                con.execute(statement)
            con.execute("USE memory")
            con.execute("DETACH w")
        finally:
            con.close()
        os.replace(tmp, self.duckdb_path)
        wal = Path(str(tmp) + ".wal")
        if wal.exists():
            wal.unlink()

    def collect_garbage(self) -> None:
        """Delete files no committed manifest references (left by crashed or older runs)."""
        referenced = self.manifest().referenced()
        for table in TABLES:
            folder = self.root / table
            if not folder.is_dir():
                continue
            for path in folder.rglob("*"):
                if path.is_file() and path.relative_to(self.root).as_posix() not in referenced:
                    path.unlink()
            for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                with contextlib.suppress(OSError):
                    sub.rmdir()
        for stray in self.root.glob(".*.tmp"):
            stray.unlink(missing_ok=True)
        for stray in self.root.glob(".*.tmp.wal"):
            stray.unlink(missing_ok=True)
        scratch = self.root / "_scratch"
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)

    def scratch_dir(self) -> Path:
        """A private folder for one run's temporary files; emptied by the next writer."""
        path = self.root / "_scratch" / secrets.token_hex(6)
        path.mkdir(parents=True)
        return path


class Transaction:
    """The changes of one run: new files and which partitions they replace."""

    def __init__(self, warehouse: Warehouse, base: Manifest) -> None:
        self.warehouse = warehouse
        self.base = base
        self.tables: dict[str, dict[str, str]] = {t: dict(p) for t, p in base.tables.items()}
        self.meta: dict[str, Any] = json.loads(json.dumps(base.meta))
        self._written: list[Path] = []
        self._token = f"g{base.generation + 1:06d}-{secrets.token_hex(4)}"

    def new_file(self, table: str, partition: str) -> Path:
        """A fresh path for a file of TABLE's PARTITION; nothing references it until commit."""
        if table not in TABLES:
            raise WarehouseError(f"unknown table {table!r}")
        if not _PARTITION_RE.match(partition):
            raise WarehouseError(f"bad partition name {partition!r}")
        folder = self.warehouse.root / table / partition
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self._token}-{len(self._written):05d}.parquet"
        self._written.append(path)
        return path

    def write(self, table: str, partition: str, data: pa.Table) -> Path:
        """Write DATA as TABLE's PARTITION (replacing it at commit)."""
        path = self.new_file(table, partition)
        pq.write_table(data.cast(TABLES[table]), path, compression="zstd")
        self.put(table, partition, path)
        return path

    def put(self, table: str, partition: str, path: Path) -> None:
        """Make PATH (from ``new_file``) the file of TABLE's PARTITION at commit."""
        rel = Path(path).absolute().relative_to(self.warehouse.root).as_posix()
        self.tables.setdefault(table, {})[partition] = rel

    def remove(self, table: str, partition: str) -> None:
        self.tables.get(table, {}).pop(partition, None)

    def clear(self, table: str) -> None:
        """Drop every partition of TABLE (to replace the table whole)."""
        self.tables[table] = {}

    def partitions(self, table: str) -> dict[str, Path]:
        """TABLE's partitions as they will be after commit."""
        return {k: self.warehouse.root / rel for k, rel in sorted(self.tables.get(table, {}).items())}

    def commit(self) -> None:
        manifest = Manifest(self.base.generation + 1, self.tables, self.meta)
        for path in self._written:
            if path.exists():
                _fsync_file(path)
        self.warehouse._write_manifest(manifest)
        self.warehouse.refresh_duckdb_file()
        self.warehouse.collect_garbage()

    def discard(self) -> None:
        for path in self._written:
            path.unlink(missing_ok=True)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_table(warehouse: Warehouse, table: str, partitions: Mapping[str, Path] | None = None) -> pa.Table:
    """All of TABLE (or the given partitions) as one Arrow table."""
    files = list((partitions or warehouse.partitions(table)).values())
    if not files:
        return TABLES[table].empty_table()
    return pq.read_table(files, schema=TABLES[table])
