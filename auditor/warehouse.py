"""The warehouse: Parquet files, one manifest that says which of them are current.

Layout (``WAREHOUSE/``)::

    manifest.json                  the committed state: table -> partition -> file
    auditor.duckdb                 views over the current files, for engineers
    events/date=YYYY-MM-DD/*.parquet
    rejects/run=RUN_ID/*.parquet
    ingest_log/run=RUN_ID/*.parquet
    ...                            one folder per table in ``auditor.tables.TABLES``
    .lock                          held (flock) by the process writing
    .readers                       held (shared flock) by every process reading a snapshot

Why a manifest: a run rewrites several partitions of several tables, and a run
killed at any point must leave the warehouse as it was before or as after it.
New files are written under fresh names that nothing references; the run then
replaces ``manifest.json`` in one atomic rename, and only after that deletes the
files the old manifest referenced. A crash before the rename leaves orphans that
the next writer deletes; a crash after it leaves garbage that the next writer
deletes. Readers only ever see files some manifest committed.

A reader that pins a snapshot (``auditor.open``, ``auditor sql``, ``auditor
report``) holds ``.readers`` shared for as long as it reads. The files a commit
replaced are listed in its manifest (``retired``) and deleted only by a writer
that can take ``.readers`` exclusively without waiting, so an open snapshot
keeps its files and no writer ever waits for a reader; a later writer deletes
them once the readers are gone. Files no manifest ever referenced (left by a
run that failed or was killed before its commit) no reader can be using, so
they are always deleted.

The rename is the commit point. A failure before it fails the run and leaves the
warehouse as it was; a failure after it (refreshing ``auditor.duckdb``, deleting
replaced files) cannot undo the run, so it is an ``AuditorWarning``, not an error.
``auditor.duckdb`` records what it was built from (``_auditor_build``); every
connection compares that with the manifest and the warehouse's current place and
rewrites a stale file (after a crash between rename and refresh, or after the
warehouse was moved) when the write lock is free and the directory writable.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.errors import (
    AuditorWarning,
    NotAWarehouseError,
    UsageError,
    WarehouseBusyError,
    WarehouseError,
    WarehouseNotWritableError,
    WarehouseWriteError,
)
from auditor.files import write_atomically
from auditor.queries import load_query
from auditor.state import PipelineState
from auditor.tables import TABLES, duckdb_type

MANIFEST_FILE = "manifest.json"
DUCKDB_FILE = "auditor.duckdb"
LOCK_FILE = ".lock"
READERS_FILE = ".readers"
MANIFEST_FORMAT = 1
ENV_VAR = "AUDITOR_WAREHOUSE"
# duckdb-cli from PyPI (1.5.x) cannot read newer storage versions; engineers open
# auditor.duckdb with whatever DuckDB they have, so write the oldest we can.
DUCKDB_STORAGE_VERSION = "v1.5.0"
#: How long opening a warehouse that another process is creating waits for that
#: process's lock; creating one takes milliseconds, so a longer hold means it is busy.
CREATION_WAIT_S = 5.0
#: How long a reader waits for the readers' lock: a writer holds it exclusively only while it
#: deletes replaced files, so a longer wait means something is wrong with that writer.
READERS_WAIT_S = 30.0
#: errno values that mean "this process may not write here".
_CANNOT_WRITE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})

_PARTITION_RE = re.compile(r"^[A-Za-z0-9_.=-]+$")
_LOCK_TEXT = re.compile(r"^auditor pid (\d+) since (\S+)$")


def default_warehouse_path() -> Path:
    """``$AUDITOR_WAREHOUSE``, else ``./warehouse``."""
    return Path(os.environ.get(ENV_VAR) or "warehouse")


def sql_string(value: str) -> str:
    """A SQL string literal. Used only for DDL (views), which takes no parameters."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Manifest:
    """The committed state: each table's file per partition key, and what the stages owe each other."""

    generation: int = 0
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    state: PipelineState = field(default_factory=PipelineState)
    #: Files earlier manifests referenced and this one does not, not yet known to be deleted:
    #: a reader may still hold a snapshot that reads them.
    retired: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {"format": MANIFEST_FORMAT, "generation": self.generation, "tables": self.tables, "meta": self.state.to_json(),
             "retired": list(self.retired)},
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, where: Path) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"unknown manifest format {data.get('format')!r}")
            return cls(int(data["generation"]), dict(data["tables"]), PipelineState.from_json(data.get("meta") or {}),
                       tuple(str(rel) for rel in data.get("retired") or ()))
        except (ValueError, KeyError, TypeError) as exc:
            raise WarehouseError(f"{where} is damaged ({exc}); restore it from a backup") from None

    def referenced(self) -> set[str]:
        return {rel for parts in self.tables.values() for rel in parts.values()}


@dataclass(frozen=True)
class Snapshot:
    """The files of one committed manifest: what a reader sees, however many commits follow."""

    root: Path
    manifest: Manifest

    def partitions(self, table: str, since: date | None = None) -> dict[str, Path]:
        """TABLE's files by partition key, in key order; with SINCE, only the partitions that may hold
        rows dated SINCE or later (by the table's partition column; undated tables: all)."""
        partitioning = TABLES[table].partitioning
        out = {}
        for key, rel in sorted(self.manifest.tables.get(table, {}).items()):
            if since is None or partitioning.first_day(key) is None or partitioning.last_day(key) >= since:
                out[key] = self.root / rel
        return out

    def files(self, table: str, since: date | None = None) -> list[Path]:
        return list(self.partitions(table, since).values())

    def register(self, con: duckdb.DuckDBPyConnection, table: str, name: str, *, since: date | None = None,
                 nothing: bool = False) -> None:
        """Make NAME a view of TABLE's rows from SINCE on (NOTHING: an empty view with its columns)."""
        register_files(con, table, name, [] if nothing else self.files(table, since))

    def register_reaching(self, con: duckdb.DuckDBPyConnection, table: str, name: str, *, since: date,
                          back: Mapping[str, date]) -> None:
        """Make NAME a view of TABLE's rows from SINCE on, and of the rows of BACK's instances from
        the earliest of BACK's dates on: a few instances that reach far back (a service that never
        pauses) do not make everybody's history be read. The older files are read with a filter on
        the instance, which DuckDB checks against each row group's statistics."""
        far = sorted(name for name, day in back.items() if day < since)
        recent = self.files(table, since)
        older = [f for f in self.files(table, min((back[n] for n in far), default=since)) if f not in recent]
        if not older:
            register_files(con, table, name, recent)
            return
        columns = TABLES[table].columns
        instance = duckdb.ColumnExpression("instance")
        wanted = instance.isin(*(duckdb.ConstantExpression(n) for n in far))
        old_rows = con.read_parquet([str(f) for f in older], hive_partitioning=False, union_by_name=True)
        try:
            old_rows = old_rows.filter(wanted).select(*columns)
            rows = (con.read_parquet([str(f) for f in recent], hive_partitioning=False, union_by_name=True).select(*columns)
                    .union(old_rows) if recent else old_rows)
        except duckdb.BinderException:
            # files of an older schema lacking a column: read them all together, as before
            register_files(con, table, name, [*older, *recent])
            return
        rows.create_view(name, replace=True)

    def view_sql(self) -> list[str]:
        """``CREATE VIEW`` statements for every table, over this snapshot's files."""
        statements = []
        for table, declared in TABLES.items():
            files = self.files(table)
            if files:
                listing = ", ".join(sql_string(str(f)) for f in files)
                body = f"SELECT * FROM read_parquet([{listing}], hive_partitioning = false, union_by_name = true)"
            else:
                columns = ", ".join(
                    f"CAST(NULL AS {duckdb_type(f.type)}) AS {_quote_ident(f.name)}" for f in declared.schema
                )
                body = f"SELECT {columns} WHERE false"
            statements.append(f"CREATE OR REPLACE VIEW {_quote_ident(table)} AS {body}")
        return statements

    def check_files(self) -> None:
        """Raise WarehouseError if a file this snapshot references is missing."""
        missing = [rel for rel in sorted(self.manifest.referenced()) if not (self.root / rel).is_file()]
        if missing:
            raise WarehouseError(
                f"{self.root} references {len(missing)} missing file(s), first {missing[0]}; restore it from a backup"
            )


def new_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up as every auditor connection is: in UTC, no progress bar."""
    con = duckdb.connect()
    try:
        # Day boundaries and casts of TIMESTAMPTZ follow this setting; fix it.
        con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws its progress bar on stdout even when it is not a terminal; stdout is for data.
        con.execute("SET enable_progress_bar = false")
    except BaseException:
        con.close()
        raise
    return con


def register_files(con: duckdb.DuckDBPyConnection, table: str, name: str, files: list[Path]) -> None:
    """Make NAME a temp view of the rows of FILES (TABLE's partitions), or an empty one with TABLE's columns."""
    if files:
        relation = con.read_parquet([str(f) for f in files], hive_partitioning=False, union_by_name=True)
    else:
        relation = con.from_arrow(TABLES[table].schema.empty_table())
    relation.create_view(name, replace=True)


@dataclass(frozen=True)
class LockOwner:
    """The process a lock file names: written by the holder, read by whoever finds the lock taken."""

    pid: int
    since: datetime

    def text(self) -> str:
        return f"auditor pid {self.pid} since {self.since.isoformat(timespec='seconds')}\n"

    @classmethod
    def parse(cls, text: str) -> LockOwner | None:
        match = _LOCK_TEXT.match(text.strip())
        if not match:
            return None
        return cls(int(match.group(1)), datetime.fromisoformat(match.group(2)))

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class ReadersHold:
    """A shared hold on a warehouse's readers' lock (``.readers``).

    While any process holds one, writers keep the files that commits replace
    (``Manifest.retired``). Released by ``release()``, or by the kernel when the
    process ends.
    """

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # the only descriptor of this open file: closing it drops the flock


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
        try:
            names = os.listdir(root)
        except FileNotFoundError:
            names = []
        except PermissionError as exc:
            raise UsageError(f"cannot read the warehouse directory {root} ({exc.strerror}); run as a user who may read it") from None
        # Listed first, checked second: a manifest that appears meanwhile is seen here.
        if MANIFEST_FILE in names or (root / MANIFEST_FILE).is_file():
            return cls(root)
        if not all(_left_by_creation(name) for name in names):
            raise NotAWarehouseError(
                f"{root} is not an auditor warehouse (it has no {MANIFEST_FILE}); name a new or empty directory with --warehouse"
            )
        if not create:
            raise NotAWarehouseError(
                f"there is no warehouse at {root}; run `auditor ingest --warehouse {root} LOGS...` first"
            )
        return cls._create(root)

    @classmethod
    def _create(cls, root: Path) -> Warehouse:
        """Make a warehouse at ROOT (new, empty, or holding only another creator's lock and temporary files)."""
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if exc.errno in _CANNOT_WRITE:
                raise WarehouseNotWritableError(
                    f"cannot create the warehouse {root.absolute()} ({exc.strerror}); name a directory you may write to with --warehouse"
                ) from None
            raise
        warehouse = cls(root)
        # Another process may be creating it right now: wait for its lock, then look again.
        with warehouse.lock(wait=CREATION_WAIT_S):
            if not warehouse.manifest_path.is_file():
                manifest = Manifest()
                try:
                    warehouse._write_manifest(manifest)
                except OSError as exc:
                    raise WarehouseWriteError(f"could not create the warehouse {root}: {_one_line(exc)}") from exc
                warehouse._after_commit(manifest, ())
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
        except PermissionError as exc:
            raise UsageError(f"cannot read {self.manifest_path} ({exc.strerror}); run as a user who may read the warehouse") from None
        return Manifest.from_json(text, self.manifest_path)

    def partitions(self, table: str, manifest: Manifest | None = None) -> dict[str, Path]:
        """The current files of TABLE by partition key, in partition order."""
        return Snapshot(self.root, manifest or self.manifest()).partitions(table)

    def files(self, table: str, manifest: Manifest | None = None) -> list[Path]:
        return Snapshot(self.root, manifest or self.manifest()).files(table)

    def state(self) -> PipelineState:
        """What the stages owe each other, as last committed."""
        return self.manifest().state

    def snapshot(self) -> Snapshot:
        """The files of the current commit."""
        return Snapshot(self.root, self.manifest())

    def view_sql(self, manifest: Manifest | None = None) -> list[str]:
        """``CREATE VIEW`` statements for every table, over the committed files."""
        return Snapshot(self.root, manifest or self.manifest()).view_sql()

    def connect(self, *, confined: bool = False) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with a view per table, in UTC.

        CONFINED (for queries the user writes): the connection may read the
        committed files and nothing else, load no extension, and change none of
        its settings.
        """
        con = new_connection()
        try:
            manifest = self.manifest()
            Snapshot(self.root, manifest).check_files()
            views = self.view_sql(manifest)
            self._keep_duckdb_file_current(con, views)
            for statement in views:
                con.execute(statement)
            if confined:
                files = sorted(str(self.root / rel) for rel in manifest.referenced())
                con.execute("SET allowed_paths = $files", {"files": files})
                con.execute("SET enable_external_access = false")
                con.execute("SET autoinstall_known_extensions = false")
                con.execute("SET autoload_known_extensions = false")
                con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con

    def _keep_duckdb_file_current(self, con: duckdb.DuckDBPyConnection, views: list[str]) -> None:
        """Rewrite ``auditor.duckdb`` if it was not built from VIEWS (the committed files, at this place).

        Never waits: a process holding the write lock refreshes the file when it
        commits. A directory this process may not write to is left as it is.
        """
        if self._duckdb_file_digest(con) == _digest(views):
            return
        with self._lock_if_free() as held:
            if not held or not os.access(self.root, os.W_OK):
                return
            try:
                self.refresh_duckdb_file()
            except (OSError, duckdb.Error) as exc:
                warnings.warn(
                    f"{self.duckdb_path} is out of date and could not be rewritten ({_one_line(exc)}); "
                    "auditor's own commands are not affected, and the next one tries again",
                    AuditorWarning,
                    stacklevel=2,
                )

    def _duckdb_file_digest(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """The views digest ``auditor.duckdb`` records; None if it is missing, unreadable or records none."""
        try:
            con.execute("ATTACH $path AS auditor_file (READ_ONLY)", {"path": str(self.duckdb_path)})
        except duckdb.Error:
            return None
        try:
            row = con.execute(load_query("warehouse/build_read")).fetchone()
            return str(row[0]) if row else None
        except duckdb.Error:
            return None
        finally:
            con.execute("DETACH auditor_file")

    # -- readers ---------------------------------------------------------------
    def hold_readers_lock(self) -> ReadersHold:
        """Take the readers' lock shared: until the hold is released, no writer deletes a file of
        any commit read meanwhile. Take it before reading the manifest.

        Waits only while a writer deletes replaced files (the one moment it holds the lock
        exclusively), at most READERS_WAIT_S.
        """
        path = self.root / READERS_FILE
        try:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno == errno.EROFS:
                return ReadersHold(None)  # a read-only file system: nobody can delete anything either
            if exc.errno not in _CANNOT_WRITE:
                raise
            warnings.warn(
                f"cannot open {path} ({exc.strerror}), so a run that commits while this snapshot is open may "
                "delete files it reads; the next auditor run that writes to the warehouse creates the file",
                AuditorWarning,
                stacklevel=2,
            )
            return ReadersHold(None)
        if not _flock(fd, fcntl.LOCK_SH, READERS_WAIT_S):
            os.close(fd)
            raise WarehouseBusyError(
                f"a writer has held {path} for over {READERS_WAIT_S:.0f} s while deleting replaced files; "
                "try again, and check that process if it lasts"
            )
        return ReadersHold(fd)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Snapshot]:
        """The current commit's snapshot, whose files stay on disk until the block ends, whatever commits meanwhile."""
        hold = self.hold_readers_lock()
        try:
            yield self.snapshot()
        finally:
            hold.release()

    @contextlib.contextmanager
    def _without_readers(self) -> Iterator[bool]:
        """The readers' lock held exclusively when no reader holds it now (yields True), else
        nothing (yields False). Never waits: a writer does not wait for readers."""
        try:
            fd = os.open(self.root / READERS_FILE, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            warnings.warn(
                f"cannot open {self.root / READERS_FILE} ({_one_line(exc)}); the files runs replace are kept "
                "until a run can open it",
                AuditorWarning,
                stacklevel=3,
            )
            yield False
            return
        try:
            yield _flock(fd, fcntl.LOCK_EX, 0.0)
        finally:
            os.close(fd)

    def dead_lock_owner(self) -> LockOwner | None:
        """The process a lock file names when that process is gone (its run was killed), else None."""
        try:
            owner = LockOwner.parse((self.root / LOCK_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return owner if owner is not None and not owner.alive else None

    # -- writing -----------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, *, wait: float = 0.0) -> Iterator[None]:
        """Hold the warehouse's write lock (re-entrant within this process).

        Waits up to WAIT seconds for another holder, then raises WarehouseBusyError.
        flock is released by the kernel when its process dies, so a lock left by
        a killed run is simply free again: the next run takes it over.
        """
        if self._lock_depth == 0:
            self._acquire(wait)
        self._lock_depth += 1
        try:
            yield
        finally:
            self._release()

    @contextlib.contextmanager
    def _lock_if_free(self) -> Iterator[bool]:
        """The write lock if it can be had at once (yields True), else nothing (yields False)."""
        if self._lock_depth == 0:
            try:
                self._acquire(0.0)
            except (WarehouseBusyError, WarehouseNotWritableError, OSError):
                yield False
                return
        self._lock_depth += 1
        try:
            yield True
        finally:
            self._release()

    def _acquire(self, wait: float) -> None:
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno in _CANNOT_WRITE:
                raise WarehouseNotWritableError(
                    f"cannot write to the warehouse {self.root} ({exc.strerror}: {exc.filename}); "
                    "ingest, audit and nightly need write access to it "
                    "(auditor sql and auditor report only read it)"
                ) from None
            raise
        if not _flock(fd, fcntl.LOCK_EX, wait):
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise WarehouseBusyError(f"warehouse {self.root} is in use by {holder}; wait for that run to finish")
        # Naming the holder is a courtesy: a full disk must not keep a run from its lock.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, LockOwner(os.getpid(), datetime.now(timezone.utc)).text().encode(), 0)
        self._lock_fd = fd

    def _release(self) -> None:
        self._lock_depth -= 1
        if self._lock_depth == 0 and self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Stage new files, then commit them all at once when the block ends.

        An exception inside the block (or before the commit's rename) commits
        nothing; the files it wrote are deleted, now or by the next writer. An
        OSError there (a full disk) becomes a one-line WarehouseWriteError.
        """
        with self.lock():
            self.collect_garbage()
            tx = Transaction(self, self.manifest())
            try:
                yield tx
                manifest = tx.commit()
            except BaseException as exc:
                tx.discard()
                if isinstance(exc, (OSError, duckdb.IOException)):
                    raise WarehouseWriteError(
                        f"the run failed and committed nothing ({_one_line(exc)}); "
                        f"the warehouse {self.root} is as it was before it"
                    ) from exc
                raise
            self._after_commit(manifest, tx.unreferenced(manifest))

    def _write_manifest(self, manifest: Manifest) -> None:
        """Replace ``manifest.json`` by MANIFEST; the rename at its end is the commit point."""
        write_atomically(self.manifest_path, manifest.to_json(), durable=True)

    def _after_commit(self, manifest: Manifest, unreferenced: tuple[Path, ...]) -> None:
        """Tidy up after the commit point: nothing here can undo the run, so failures are warnings."""
        try:
            _fsync_dir(self.root)
        except OSError as exc:
            warnings.warn(
                f"the run committed, but {self.root} could not be synced to disk ({_one_line(exc)}); "
                "a power cut now could lose it",
                AuditorWarning,
                stacklevel=3,
            )
        try:
            self.refresh_duckdb_file(manifest)
        except (OSError, duckdb.Error) as exc:
            warnings.warn(
                f"the run committed, but {self.duckdb_path} could not be refreshed ({_one_line(exc)}); "
                "the next auditor command on the warehouse refreshes it",
                AuditorWarning,
                stacklevel=3,
            )
        try:
            self._tidy(manifest.retired, unreferenced)
        except OSError as exc:
            warnings.warn(
                f"the run committed, but the files it replaced could not all be deleted ({_one_line(exc)}); "
                "the next run that writes to the warehouse deletes them",
                AuditorWarning,
                stacklevel=3,
            )

    def refresh_duckdb_file(self, manifest: Manifest | None = None) -> None:
        """Rewrite ``auditor.duckdb`` so that its views name the committed files, and record what it was built from."""
        manifest = manifest or self.manifest()
        views = self.view_sql(manifest)
        tmp = self.root / f".{DUCKDB_FILE}.{secrets.token_hex(4)}.tmp"
        wal = Path(str(tmp) + ".wal")
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH {sql_string(str(tmp))} AS w (STORAGE_VERSION '{DUCKDB_STORAGE_VERSION}')")
            con.execute("USE w")
            for statement in views:
                con.execute(statement)
            con.execute(
                load_query("warehouse/build_write"),
                {"generation": manifest.generation, "root": str(self.root), "views_sha256": _digest(views)},
            )
            con.execute("USE memory")
            con.execute("DETACH w")
            os.replace(tmp, self.duckdb_path)
        except BaseException:
            # A half-written file would only take space that the failure may be short of.
            tmp.unlink(missing_ok=True)
            raise
        finally:
            con.close()
            wal.unlink(missing_ok=True)

    def collect_garbage(self) -> None:
        """Delete the table files the current manifest does not reference (call with the write lock).

        Files a commit replaced (``Manifest.retired``) go only when no reader holds
        the readers' lock, else a later writer deletes them; files no manifest ever
        referenced (of a run killed or failed before its commit) always go. Never waits.
        Walks every table folder: each writer does it once, before its run.
        """
        manifest = self.manifest()
        referenced, retired = manifest.referenced(), set(manifest.retired)
        for table in TABLES:
            folder = self.root / table
            # bottom-up, so that a folder emptied here is removed in the same walk
            for directory, subdirs, files in os.walk(folder, topdown=False):
                rel_dir = Path(directory).relative_to(self.root).as_posix()
                for name in files:
                    rel = f"{rel_dir}/{name}"
                    if rel not in referenced and rel not in retired:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(os.path.join(directory, name))
                if directory != str(folder):
                    with contextlib.suppress(OSError):
                        os.rmdir(directory)
        self._tidy(manifest.retired)

    def _tidy(self, retired: tuple[str, ...], unreferenced: tuple[Path, ...] = ()) -> None:
        """Delete the RETIRED files (when no reader is there) and the UNREFERENCED ones a run wrote,
        the partition folders they leave empty, and the warehouse's temporary files."""
        # Held exclusively only for the deletions, so that a reader opening meanwhile barely waits
        # (taken even with nothing to delete: it creates the readers' lock file that readers need).
        with self._without_readers() as alone:
            gone = [self.root / rel for rel in retired] if alone else []
            for path in gone:
                path.unlink(missing_ok=True)
        for path in unreferenced:
            path.unlink(missing_ok=True)
            gone.append(path)
        for folder in {path.parent for path in gone}:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
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
        #: What the stages owe each other after this commit (a copy of the base's, to change).
        self.state: PipelineState = base.state.copy()
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
        pq.write_table(data.cast(TABLES[table].schema), path, compression="zstd")
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

    @property
    def snapshot(self) -> Snapshot:
        """The files committed before this transaction (what it reads and replaces)."""
        return Snapshot(self.warehouse.root, self.base)

    def partitions(self, table: str) -> dict[str, Path]:
        """TABLE's partitions as they will be after commit."""
        return {k: self.warehouse.root / rel for k, rel in sorted(self.tables.get(table, {}).items())}

    def commit(self) -> Manifest:
        """Make the staged files durable, then replace the manifest: the commit point.

        Returns the manifest committed. What follows the rename (the refresh of
        ``auditor.duckdb``, deleting replaced files) is ``Warehouse.transaction``'s.
        """
        root = self.warehouse.root
        referenced = {rel for parts in self.tables.values() for rel in parts.values()}
        # Files an earlier commit retired that a reader kept from deletion, and those this one replaces.
        kept = {rel for rel in self.base.retired if (root / rel).exists()}
        retired = tuple(sorted((kept | self.base.referenced()) - referenced))
        manifest = Manifest(self.base.generation + 1, self.tables, self.state, retired)
        for path in self._written:
            if path.exists():
                _fsync_file(path)
        self.warehouse._write_manifest(manifest)
        return manifest

    def unreferenced(self, manifest: Manifest) -> tuple[Path, ...]:
        """The files this run wrote that MANIFEST does not name (a partition written twice, say)."""
        referenced = manifest.referenced()
        return tuple(p for p in self._written if p.relative_to(self.warehouse.root).as_posix() not in referenced)

    def discard(self) -> None:
        for path in self._written:
            path.unlink(missing_ok=True)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _digest(views: list[str]) -> str:
    """What ``auditor.duckdb`` is built from: the views name every committed file by absolute path."""
    return hashlib.sha256("\n".join(views).encode("utf-8")).hexdigest()


def _left_by_creation(name: str) -> bool:
    """Whether NAME, in a directory without a manifest, is the lock or a temporary file of a warehouse being created."""
    return name == LOCK_FILE or (name.startswith(".") and name.endswith((".tmp", ".tmp.wal")))


def _flock(fd: int, operation: int, wait: float) -> bool:
    """Take flock OPERATION (LOCK_SH or LOCK_EX) on FD, trying for up to WAIT seconds; False if it stayed taken."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


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
        return TABLES[table].schema.empty_table()
    return pq.read_table(files, schema=TABLES[table].schema)
