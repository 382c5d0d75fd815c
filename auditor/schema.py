"""The warehouse's tables: their columns, as Arrow schemas.

Every table a command writes is declared here once, so that the views in
``auditor sql`` and ``WAREHOUSE/auditor.duckdb`` exist (empty, but typed)
before the first run that fills them.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

#: Accepted connection-log events, one row per distinct normalised event.
EVENTS = pa.schema(
    [
        pa.field("ts", UTC_TS, nullable=False),
        pa.field("instance", pa.string(), nullable=False),
        pa.field("event", pa.string(), nullable=False),
        pa.field("session_id", pa.string()),
        pa.field("seats", pa.int32(), nullable=False),
        pa.field("user", pa.string()),
        pa.field("user_type", pa.string()),
        pa.field("device", pa.string()),
        pa.field("app", pa.string()),
        pa.field("auth_flow", pa.string()),
        pa.field("reason", pa.string()),
    ]
)

#: Lines that ingest set aside, with where they came from and why.
REJECTS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("file", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),
    ]
)

#: One row per input file per ingest run: read = accepted + duplicates + rejected.
INGEST_LOG = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("started_at", UTC_TS, nullable=False),
        pa.field("finished_at", UTC_TS, nullable=False),
        pa.field("file", pa.string(), nullable=False),
        pa.field("file_sha256", pa.string(), nullable=False),
        pa.field("file_bytes", pa.int64(), nullable=False),
        pa.field("format", pa.string(), nullable=False),
        pa.field("compression", pa.string()),
        pa.field("read", pa.int64(), nullable=False),
        pa.field("accepted", pa.int64(), nullable=False),
        pa.field("duplicates", pa.int64(), nullable=False),
        pa.field("rejected", pa.int64(), nullable=False),
        pa.field("unknown_fields", pa.list_(pa.string())),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "events": EVENTS,
    "rejects": REJECTS,
    "ingest_log": INGEST_LOG,
}


def duckdb_type(dtype: pa.DataType) -> str:
    """The DuckDB type name an Arrow type reads back as from Parquet."""
    if pa.types.is_timestamp(dtype):
        return "TIMESTAMPTZ" if dtype.tz else "TIMESTAMP"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "VARCHAR"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return duckdb_type(dtype.value_type) + "[]"
    simple = {
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    if dtype in simple:
        return simple[dtype]
    raise TypeError(f"no DuckDB type for {dtype}")
