"""Writing generated events as log files: one file per UTC day (or several).

The events become an Arrow table whose text columns are dictionary-encoded
(each event points into short lists of names), and DuckDB writes each day's
slice with ``queries/generate/jsonl.sql`` or ``generate/csv.sql``. Files are
written two at a time: compression runs on one core per file.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import zstandard

from auditor.generate.activity import APPS, AUTH_FLOWS, SERVICE, SHARED, US, VIRTUAL, USER_TYPES, Dimensions, Parts
from auditor.generate.events import EVENT_KINDS, LOGIN, LOGIN_FAILED, REFUSAL_REASON, Events
from auditor.queries import load_query

FORMATS = ("jsonl", "csv")
#: The statement that writes a day slice in each format.
WRITE_QUERY = {"jsonl": "generate/jsonl", "csv": "generate/csv"}
COMPRESSIONS = {None: "", "none": "", "gz": ".gz", "zst": ".zst"}
DAY_US = 86_400 * US
#: The names of the files the generator writes: DAY[_NN].FORMAT[.COMPRESSION].
LOG_NAME = re.compile(r"\d{4}-\d{2}-\d{2}(_\d{2,})?\.(jsonl|csv)(\.gz|\.zst)?")


@dataclass(frozen=True)
class LogFile:
    path: Path
    day: date
    events: int


def events_table(ev: Events, parts: Parts, dims: Dimensions, instance_names: list[str]) -> pa.Table:
    """The events as an Arrow table in the input contract's columns."""
    session = ev.part >= 0
    p = np.where(session, ev.part, 0)
    no_session = ~session | (ev.kind == LOGIN_FAILED)
    seats = parts.seats[p]
    # A login (or refused login) says who connects, with what and how; later
    # events of the session name only the session, except that services,
    # external applications and virtual users repeat their user type, auth
    # flow and seats, as their clients send them with every call.
    describes = (ev.kind == LOGIN) | (ev.kind == LOGIN_FAILED)
    special = session & (parts.kind[p] >= SERVICE) & (parts.kind[p] <= VIRTUAL)
    typed = describes | special
    # Planted shared requests name their user and device (auditor.generate.plants).
    names_who = describes | (session & (parts.kind[p] == SHARED))

    def dict_col(indices: np.ndarray, values: list[str] | tuple[str, ...], null: np.ndarray) -> pa.DictionaryArray:
        # One byte per row where the list is short: tens of millions of rows add up.
        width = np.int8 if len(values) < 128 else np.int32
        return pa.DictionaryArray.from_arrays(pa.array(indices.astype(width), mask=null), pa.array(values, pa.string()))
    return pa.table(
        {
            "ts": pa.array(ev.ts, pa.timestamp("us")),
            "instance": dict_col(ev.inst, instance_names, np.zeros(len(ev.ts), bool)),
            "event": dict_col(ev.kind, EVENT_KINDS, np.zeros(len(ev.ts), bool)),
            "session_id": pa.array(parts.sid[p], pa.int64(), mask=no_session),
            # seats is left out where it is the default, 1.
            "seats": pa.array(seats.astype(np.int32), pa.int32(), mask=~typed | (seats <= 1)),
            "user": dict_col(parts.user[p], dims.users, ~names_who),
            "user_type": dict_col(parts.user_type[p], USER_TYPES, ~typed),
            "device": dict_col(parts.device[p], dims.devices, ~names_who),
            "app": dict_col(parts.app[p], APPS, ~describes),
            "auth_flow": dict_col(parts.auth_flow[p], AUTH_FLOWS, ~typed),
            "reason": dict_col(np.zeros(len(ev.ts), np.int32), [REFUSAL_REASON], ev.kind != LOGIN_FAILED),
        }
    )


def file_name(day: date, fmt: str, compression: str | None, shard: int, shards: int) -> str:
    stem = day.isoformat() if shards == 1 else f"{day.isoformat()}_{shard + 1:02d}"
    return f"{stem}.{fmt}{COMPRESSIONS[compression]}"


def write_logs(
    table: pa.Table,
    ev: Events,
    logs_dir: Path,
    start: date,
    days: int,
    formats: list[tuple[str, str | None]],
    files_per_day: int = 1,
) -> list[LogFile]:
    """Write TABLE (the rows of EV, grouped by UTC day) as files under LOGS_DIR, each in time order.

    ``formats[d]`` is the (format, compression) of day d. With several files
    per day, each instance's events of a day stay in one file. Ties in time
    keep the generator's order, so the files are the same on every run.
    """
    logs_dir.mkdir(parents=True, exist_ok=True)
    bounds = np.searchsorted(ev.day, np.arange(days + 1))

    def pieces(d: int) -> list[tuple[pa.Table, Path, str, date]]:
        a, b = int(bounds[d]), int(bounds[d + 1])
        day = start + timedelta(days=d)
        fmt, compression = formats[d]
        # Sorting row numbers here is far cheaper than ORDER BY in the COPY,
        # which would sort the whole rendered rows.
        order = np.argsort(ev.ts[a:b], kind="stable")
        if files_per_day == 1:
            return [(table.slice(a, b - a).take(pa.array(order)), logs_dir / file_name(day, fmt, compression, 0, 1), fmt, day)]
        shard = (ev.inst[a:b][order] % files_per_day).astype(np.int16 if files_per_day < 2**15 else np.int32)
        order = order[np.argsort(shard, kind="stable")]
        cuts = np.searchsorted(np.sort(shard), np.arange(files_per_day + 1))
        day_table = table.slice(a, b - a)
        return [
            (
                day_table.take(pa.array(order[cuts[s] : cuts[s + 1]])),
                logs_dir / file_name(day, fmt, compression, s, files_per_day),
                fmt,
                day,
            )
            for s in range(files_per_day)
        ]

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET threads = 1")  # two days at a time, one core each

        def write(d: int) -> list[LogFile]:
            written = []
            for piece, path, fmt, day in pieces(d):
                cur = con.cursor()
                try:
                    cur.register("log_events", piece)
                    cur.execute(load_query(WRITE_QUERY[fmt]), {"path": str(path)})
                finally:
                    cur.close()
                written.append(LogFile(path, day, piece.num_rows))
            return written

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            return [f for files in pool.map(write, range(days)) for f in files]
    finally:
        con.close()


def write_lines(path: Path, lines: list[str], *, best: bool = False) -> None:
    """Write LINES to PATH, compressed as its suffix says (.gz, .zst), the same bytes on every run.

    BEST compresses harder (slower): for files committed to the repository.
    """
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if path.suffix == ".gz":
        # mtime=0: the same content gives the same bytes on every run.
        data = gzip.compress(data, compresslevel=9 if best else 6, mtime=0)
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor(level=19 if best else 3).compress(data)
    path.write_bytes(data)


def read_bytes(path: Path) -> bytes:
    """PATH's content, decompressed as its suffix says."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".zst":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data
