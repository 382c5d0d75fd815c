"""Replacing the audit's output partitions: which to rewrite, which stored rows they keep.

Everything here is derived from the tables' declarations (auditor/tables.py): the
statements that tag the audit's rows with their partition, find the stored
partitions a row replaces, keep the stored rows nobody replaces, and write each
partition sorted, are built from each table's columns, partitioning, order, key
and restart column. They name only declared identifiers; every value is a
parameter. An output table ``T`` gets its new rows from the view ``a_out_T``.

A stored row is replaced when this audit recomputes it: its instance restarts at
a point at or before the row's restart column (a_restart_points), or a new row has
its key. A full audit keeps nothing: it replaces each table whole. A stored partition
whose replaced rows come out of the audit exactly as they were (the days before the new
data of an instance that restarted far back) is left as it is, not rewritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from auditor.queries import run_query
from auditor.tables import AUDIT_OUTPUTS, Table, quote
from auditor.warehouse import Transaction


#: How the audit writes its Parquet files (DuckDB's COPY options, passed as the parameters
#: $compression and $parquet_version): format version 2 pages delta-encode the timestamps and
#: integers, which writes faster and smaller files than version 1's plain pages.
PARQUET_COPY = {"compression": "zstd", "parquet_version": "V2"}


@dataclass(frozen=True)
class Cuts:
    """The earliest restart instant's UTC date and the earliest restart day of the re-audited
    instances: stored partitions from there on may hold rows the audit recomputes. Those that end
    before ``far_before`` hold only rows of instances that restarted further back than the new
    data (a service that never pauses): those may come out of the audit unchanged."""

    utc_date: date
    local_day: date
    far_before: date


def replace_outputs(con: duckdb.DuckDBPyConnection, tx: Transaction, scratch: Path, cuts: Cuts | None) -> dict[str, list[Path]]:
    """Write every output table's new partitions into TX; CUTS None: a full audit (tables replaced whole).

    Returns, per table, the stored files of the partitions the audit recomputed: those the
    transaction replaces, and those it found unchanged and keeps.
    """
    replaced: dict[str, list[Path]] = {}
    for table in AUDIT_OUTPUTS:
        stored = tx.snapshot.partitions(table.name)
        if cuts is None:
            touched = set(stored)
            tx.clear(table.name)
            unchanged: set[str] = set()
        else:
            touched = _touched(con, table, stored, cuts)
            unchanged = _unchanged(con, table, stored, touched, cuts.far_before)
            touched -= unchanged
            for key in touched:
                tx.remove(table.name, key)
        kept = [stored[key] for key in sorted(touched) if key in stored]
        replaced[table.name] = kept + [stored[key] for key in sorted(unchanged)]
        write_partitions(con, tx, scratch, table, [] if cuts is None else kept,
                         skip=sorted(table.partitioning.bare(key) for key in unchanged))
    return replaced


def _unchanged(con: duckdb.DuckDBPyConnection, table: Table, stored: dict[str, Path], touched: set[str],
               before: date) -> set[str]:
    """Of the TOUCHED partitions, the stored ones ending BEFORE (see Cuts.far_before) whose replaced rows
    the audit recomputed exactly as they were: they stay as they are, unwritten. Later ones, which the
    new data reaches, are not compared: they nearly always differ."""
    part = table.partitioning
    candidates = {key: stored[key] for key in touched if key in stored and (part.last_day(key) or before) < before}
    if not candidates:
        return set()
    files = [str(path) for path in candidates.values()]
    differing = {value for (value,) in con.execute(_differing_sql(table), {"files": files}).fetchall()}
    return {key for key in candidates if part.bare(key) not in differing}


def _touched(con: duckdb.DuckDBPyConnection, table: Table, stored: dict[str, Path], cuts: Cuts) -> set[str]:
    """The partitions to rewrite: those receiving new rows, those that may hold rows recomputed from
    a restart point on, and (when a row's key does not tell its partition) those holding a new row's key."""
    part = table.partitioning
    touched = {part.key(value) for (value,) in con.execute(_new_keys_sql(table)).fetchall()}
    if table.restart is not None:
        cut = cuts.local_day if table.partitioning.kind == "day" else cuts.utc_date
        touched |= {key for key in stored if (part.last_day(key) or cut) >= cut}
    if not table.key_fixes_partition and stored:
        files = {str(path): key for key, path in stored.items()}
        located = con.execute(_locate_sql(table), {"files": list(files)}).fetchall()
        touched |= {files[name] for (name,) in located}
    return touched


def write_partitions(con: duckdb.DuckDBPyConnection, tx: Transaction, scratch: Path, table: Table,
                     kept: list[Path], skip: list[str] | None = None) -> None:
    """Write the rows of the view ``a_out_TABLE`` (and the stored rows of KEPT no new row replaces) as
    TABLE's partitions in TX, sorted by its declared order, but none of the partitions SKIP names (by
    their bare key value). Snapshot ingest writes its tables this way too."""
    out_dir = scratch / table.name
    params: dict[str, object] = {"dir": str(out_dir), "skip": skip or [], **PARQUET_COPY}
    if kept:
        params["kept_files"] = [str(p) for p in kept]
    con.execute(_write_sql(table, bool(kept)), params)
    for folder in sorted(out_dir.iterdir()) if out_dir.exists() else []:
        key = table.partitioning.key(folder.name.removeprefix("part="))
        files = sorted(folder.glob("*.parquet"))
        target = tx.new_file(table.name, key)
        if len(files) == 1:
            os.replace(files[0], target)
        else:
            # DuckDB's documentation allows one file per thread in each folder (the sorted writes
            # here have given one so far); the warehouse keeps one file per partition.
            run_query(con, "audit/merge_parquet", {"files": [str(f) for f in files], "path": str(target), **PARQUET_COPY})
        tx.put(table.name, key, target)


# --- the derived statements ---------------------------------------------------------


def _new_keys_sql(table: Table) -> str:
    return f"SELECT DISTINCT {table.partitioning.key_sql()} FROM a_out_{table.name}"


def _locate_sql(table: Table) -> str:
    """The stored files (of $files) holding a row whose key a new row has."""
    match = " AND ".join(f"n.{quote(c)} = t.{quote(c)}" for c in table.key)
    return (
        f"SELECT DISTINCT t.filename FROM read_parquet($files, hive_partitioning = false, filename = true) AS t "
        f"WHERE EXISTS (SELECT 1 FROM a_out_{table.name} AS n WHERE {match})"
    )


def _kept_sql(table: Table) -> str:
    """The stored rows of $kept_files that no new row replaces."""
    columns = ", ".join(f"t.{quote(c)}" for c in table.columns)
    return (
        f"SELECT {columns} FROM read_parquet($kept_files, hive_partitioning = false, union_by_name = true) AS t "
        f"WHERE NOT ({_replaced_sql(table)})"
    )


def _differing_sql(table: Table) -> str:
    """The bare keys of the partitions (of the stored $files) whose new rows differ from the stored rows
    they replace, as multisets (EXCEPT ALL both ways: exact, NULLs and all)."""
    columns = ", ".join(f"t.{quote(c)}" for c in table.columns)
    key = table.partitioning.key_sql()
    new = f"SELECT {columns}, {key} AS part FROM a_out_{table.name} AS t"
    old = (f"SELECT {columns}, {key} AS part FROM read_parquet($files, hive_partitioning = false, union_by_name = true) AS t "
           f"WHERE {_replaced_sql(table)}")
    return f"SELECT DISTINCT part FROM (({new} EXCEPT ALL {old}) UNION ALL ({old} EXCEPT ALL {new}))"


def _replaced_sql(table: Table) -> str:
    """Whether the stored row t is replaced by this audit's rows."""
    replaced = []
    if table.restart is not None:
        point = "q_day" if table.schema.field(table.restart).type == pa.date32() else "q"
        replaced.append(
            f"EXISTS (SELECT 1 FROM a_restart_points AS q WHERE q.instance = t.instance AND t.{quote(table.restart)} >= q.{point})"
        )
    if table.key:
        match = " AND ".join(f"n.{quote(c)} = t.{quote(c)}" for c in table.key)
        replaced.append(f"EXISTS (SELECT 1 FROM a_out_{table.name} AS n WHERE {match})")
    return " OR ".join(replaced) or "false"


def _write_sql(table: Table, with_kept: bool) -> str:
    """The partitions' rows (new, and kept when WITH_KEPT), sorted, as Parquet under $dir/part=KEY/."""
    columns = ", ".join(quote(c) for c in table.columns)
    rows = f"SELECT {columns} FROM a_out_{table.name}"
    if with_kept:
        rows += f" UNION ALL {_kept_sql(table)}"
    order = ", ".join(quote(c) for c in table.order)
    return (
        f"COPY (SELECT * FROM (SELECT *, {table.partitioning.key_sql()} AS part FROM ({rows})) "
        f"WHERE NOT list_contains($skip, part) ORDER BY {order}) "
        "TO $dir (FORMAT parquet, COMPRESSION $compression, PARQUET_VERSION $parquet_version, PARTITION_BY (part))"
    )
