"""Helpers for the ingest tests: write log files in any format and compression, read tables back."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import zstandard

from auditor.warehouse import Warehouse

FIELDS = ("ts", "instance", "event", "session_id", "seats", "user", "user_type", "device", "app", "auth_flow", "reason")


def compress(data: bytes, compression: str | None) -> bytes:
    if compression == "gz":
        return gzip.compress(data)
    if compression == "zst":
        return zstandard.ZstdCompressor().compress(data)
    return data


def write_lines(path: Path, lines: Sequence[str], compression: str | None = None, newline: str = "\n") -> Path:
    """Write LINES verbatim (each followed by NEWLINE), compressed as the name says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compress("".join(line + newline for line in lines).encode("utf-8"), compression))
    return path


def jsonl_lines(events: Iterable[Mapping[str, Any]]) -> list[str]:
    return [json.dumps(dict(e)) for e in events]


def csv_lines(events: Iterable[Mapping[str, Any]], columns: Sequence[str] = FIELDS) -> list[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for e in events:
        writer.writerow(["" if e.get(c) is None else e.get(c) for c in columns])
    return out.getvalue().splitlines()


def write_events(path: Path, events: Iterable[Mapping[str, Any]], compression: str | None = None) -> Path:
    """Write EVENTS as JSON Lines or CSV, by PATH's name (``x.jsonl``, ``x.csv``, + ``.gz``/``.zst``)."""
    name = path.name.removesuffix(".gz").removesuffix(".zst")
    lines = csv_lines(events) if name.endswith(".csv") else jsonl_lines(events)
    return write_lines(path, lines, compression)


def rows(warehouse: Warehouse | Path, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse.open(warehouse)
    con = wh.connect()
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def event(ts: str = "2026-10-01T08:00:00Z", instance: str = "acme.my.erp.net", event: str = "request",
          session_id: str | None = "s1", **more: Any) -> dict[str, Any]:
    return {"ts": ts, "instance": instance, "event": event, "session_id": session_id, **more}
