"""Writing a file whole or not at all, a file's content hash, and run ids.

One helper each: the manifest, the nightly file cache and every report are
written through ``write_atomically``, so that a reader never sees half a file
and a crash leaves at most a ``.NAME.*.tmp`` beside it (the warehouse's next
writer deletes those; a report folder's are deleted with the failed write).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path


def write_atomically(path: Path, data: bytes | str, *, durable: bool = False) -> None:
    """Replace PATH by DATA in one rename. DURABLE: fsync the file before the rename (the commit of a warehouse)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of the file at PATH."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts in time order, e.g. ``20261129T170300.123456Z-ab12cd``.

    Microseconds, because runs a moment apart (tests, a nightly catching up) must still sort.
    """
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(3)}"
