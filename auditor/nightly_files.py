"""Which files under --logs the warehouse already holds, known without reading them again.

Ingest recognises a file by the SHA-256 of its content, which means reading it.
Left at that, every night would read every file ever delivered to --logs, and its
cost would grow with the history kept there. So the nightly batch remembers, for
each file it handed to ingest, the file's identity on disk (device, inode, size,
modification time in nanoseconds: what make and rsync trust) and the hash ingest
recorded for it. A file whose identity is unchanged and whose hash ``ingest_log``
still holds is known without reading it; any other file (new, copied, changed)
goes to ingest, which hashes it and skips it when its content is known. A file
modified in the last two seconds is not remembered (its clock tick may not be over).

Kept in ``WAREHOUSE/nightly-files.json``, replaced whole after ingest committed.
It is only a cache: a missing or damaged one costs a night of hashing, and an
entry whose hash the warehouse does not hold is ignored.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from auditor.warehouse import Warehouse

CACHE_FILE = "nightly-files.json"


#: A file modified this recently may be written to again within the same tick of
#: the file system's clock, leaving its identity unchanged: it is not remembered.
SETTLED_NS = 2_000_000_000


def identity(path: Path) -> str | None:
    """What changes when the file at PATH is replaced or written to; None if it changed too recently
    to tell, or cannot be looked at (gone since it was found: ingest then says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_mtime_ns > time.time_ns() - SETTLED_NS:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def load(warehouse: Warehouse) -> dict[str, str]:
    """identity -> sha256 of the files an earlier night handed to ingest."""
    try:
        data = json.loads((warehouse.root / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def save(warehouse: Warehouse, files: dict[str, str]) -> None:
    """Replace the cache with FILES (identity -> sha256), atomically."""
    tmp = warehouse.root / f".{CACHE_FILE}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(json.dumps({"files": dict(sorted(files.items()))}, indent=0), encoding="utf-8")
    os.replace(tmp, warehouse.root / CACHE_FILE)
