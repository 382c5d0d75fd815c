"""Which files an ingest reads: paths expanded, formats and compressions recognised.

Everything here runs before the warehouse is touched, so that a typo on the
command line costs nothing: a missing path, an unreadable file, or a file that
is plainly not a connection log is a usage error naming the file.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from auditor.errors import InputFileError

#: Name endings of connection-log files, before any compression ending.
FORMAT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".zst": "zstd"}
#: The header of a CSV log must name these columns (the contract's required fields).
CSV_REQUIRED_COLUMNS = ("ts", "instance", "event")

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BOM = "\ufeff"


@dataclass(frozen=True)
class SourceFile:
    """One input file: where it is, how its events are written and compressed."""

    path: Path
    format: str  # "jsonl" or "csv"
    compression: str | None  # None, "gzip" or "zstd"
    size: int


@dataclass
class Sources:
    files: list[SourceFile]
    #: Files found inside named directories whose names are not those of logs.
    ignored: list[Path] = field(default_factory=list)


def format_of(path: Path) -> tuple[str, str | None] | None:
    """(format, compression named by the suffix) for a log file's name, else None."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        compression = COMPRESSION_SUFFIXES[suffixes.pop()]
    if suffixes and suffixes[-1] in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffixes[-1]], compression
    return None


def sniff_compression(path: Path) -> str | None:
    """The compression the file's first bytes show (a misnamed file is still read right)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


def open_text_head(path: Path, compression: str | None):
    """A binary stream of the decompressed content, for reading a header line."""
    if compression == "gzip":
        return gzip.open(path, "rb")
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), read_across_frames=True, closefd=True)
    return open(path, "rb")


def read_csv_header(path: Path, compression: str | None) -> list[str]:
    """The column names of a CSV log's first line, trimmed (a UTF-8 BOM dropped)."""
    with open_text_head(path, compression) as fh:
        head = b""
        while b"\n" not in head and len(head) < (1 << 20):
            more = fh.read(64 << 10)
            if not more:
                break
            head += more
    first = head.split(b"\n", 1)[0]
    text = first.decode("utf-8", errors="replace").lstrip(_BOM).rstrip("\r\n")
    if not text.strip():
        return []
    return [name.strip() for name in next(csv.reader([text]))]


def _check_csv_header(source: SourceFile) -> None:
    try:
        header = read_csv_header(source.path, source.compression)
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise InputFileError(f"cannot read {source.path}: {exc}") from None
    if not header and source.size == 0:
        return
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputFileError(
            f"{source.path} is not a connection log: its CSV header lacks {', '.join(missing)} "
            f"(it has {', '.join(header[:8]) or 'no columns'}); name log files only"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicated:
        raise InputFileError(f"{source.path}: the CSV header names {', '.join(duplicated)} twice; fix the header")


def _source(path: Path, fmt: str) -> SourceFile:
    if not os.access(path, os.R_OK):
        raise InputFileError(f"cannot read {path}: permission denied; check the file's permissions")
    try:
        compression = sniff_compression(path)
        size = path.stat().st_size
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    source = SourceFile(path.absolute(), fmt, compression, size)
    if fmt == "csv":
        _check_csv_header(source)
    return source


def _walk(directory: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(directory, onerror=_raise_walk_error):
        dirs.sort()
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def _raise_walk_error(exc: OSError) -> None:
    raise InputFileError(f"cannot read directory {exc.filename}: {exc.strerror}; check its permissions")


def find_sources(paths: Sequence[Path | str]) -> Sources:
    """Expand PATHS (files, or directories read recursively) into the log files to read.

    A file named on the command line must be a log (``.jsonl``/``.ndjson``/``.csv``,
    optionally ``.gz``/``.zst``); inside a directory, other files are listed as
    ignored. Each file is read once even if named twice.
    """
    if not paths:
        raise InputFileError("no input paths; name log files or directories to ingest")
    found: list[SourceFile] = []
    ignored: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path, fmt: str) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(_source(path, fmt))

    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputFileError(f"{path} does not exist; name an existing log file or directory")
        if path.is_dir():
            if not os.access(path, os.R_OK | os.X_OK):
                raise InputFileError(f"cannot read directory {path}: permission denied; check its permissions")
            for member in _walk(path):
                named = format_of(member)
                if named is None:
                    ignored.append(member)
                else:
                    add(member, named[0])
        else:
            named = format_of(path)
            if named is None:
                raise InputFileError(
                    f"{path}: cannot tell its format; log files are named *.jsonl, *.ndjson or *.csv, "
                    "optionally with .gz or .zst"
                )
            add(path, named[0])
    return Sources(found, ignored)
