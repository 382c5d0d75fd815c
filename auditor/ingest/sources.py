"""Which files an ingest reads: paths expanded, formats and compressions recognised.

Everything here runs before the warehouse is touched, so that a typo on the
command line costs nothing: a missing path, an unreadable file, or a file that
is plainly not a connection log is a usage error naming the file. Inside a named
directory, a log file that cannot be read (a broken symbolic link, a device, no
permission) is not the command line's fault: it is skipped, with the reason, and
the other files are read. Only regular files are ever opened for reading.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from auditor.errors import InputFileError
from auditor.ingest.decode import GZIP_MAGIC, ZSTD_MAGIC, StoredBytes, decoder

#: Name endings of connection-log files, before any compression ending.
FORMAT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
COMPRESSION_SUFFIXES = {".gz": "gzip", ".zst": "zstd"}
#: The header of a CSV log must name these columns (the contract's required fields).
CSV_REQUIRED_COLUMNS = ("ts", "instance", "event")

_BOM = "\ufeff"
#: Decoded bytes read at most to recognise a file by its first line.
HEAD_BYTES = 1 << 20
_ENTITY_SET_KEY = re.compile(rb'"entity_set"\s*:')


@dataclass(frozen=True)
class SourceFile:
    """One input file: where it is, how its events are written and compressed."""

    path: Path
    #: "jsonl" or "csv" (connection logs), or "snapshots" (JSON Lines of polls, see ``is_snapshot_file``)
    format: str
    compression: str | None  # None, "gzip" or "zstd"
    size: int


@dataclass(frozen=True)
class SkippedPath:
    """A log file (or a directory) found inside a named directory that cannot be read, and why."""

    path: Path
    reason: str


@dataclass
class Sources:
    files: list[SourceFile]
    #: Files found inside named directories whose names are not those of logs.
    ignored: list[Path] = field(default_factory=list)
    #: Log files (and directories) found inside named directories that cannot be read.
    skipped: list[SkippedPath] = field(default_factory=list)


def format_of(path: Path) -> tuple[str, str | None] | None:
    """(format, compression named by the suffix) for a log file's name, else None."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        compression = COMPRESSION_SUFFIXES[suffixes.pop()]
    if suffixes and suffixes[-1] in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffixes[-1]], compression
    return None


def sniff_compression(head: bytes, named: str | None = None) -> str | None:
    """The compression a file's first bytes HEAD show (a misnamed file is still read right).

    A file shorter than a magic number that begins like the one of the compression its
    name says (NAMED) is that compression, cut short; an empty file holds no data at all.
    """
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    magic = {"gzip": GZIP_MAGIC, "zstd": ZSTD_MAGIC}.get(named or "")
    if magic is not None and 0 < len(head) < len(magic) and magic.startswith(head):
        return named
    return None


class Unreadable(Exception):
    """A path that cannot be read as a log file; the message is the reason (``permission denied``)."""


_KINDS = {
    stat.S_IFDIR: "directory",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "named pipe",
    stat.S_IFSOCK: "socket",
}


def _reason(path: Path, exc: OSError) -> str:
    """The true reason why PATH could not be opened or looked at."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
        return f"dangling symbolic link (to {os.readlink(path)})"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()


def open_regular(path: Path) -> int:
    """A file descriptor of PATH opened for reading, if it is a regular file; else Unreadable.

    Opened without blocking (a named pipe would wait for a writer) and checked after
    opening, so that a file replaced in the meantime by a device is not read either.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(_reason(path, exc)) from None
    try:
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind != stat.S_IFREG:
            raise Unreadable(f"not a regular file ({_KINDS.get(kind, 'special file')})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _head(path: Path, compression: str | None, until: Callable[[bytes], bool]) -> tuple[bytes, bool]:
    """The first decoded bytes of PATH, read until UNTIL(bytes so far) holds or HEAD_BYTES are read,
    and whether the data is damaged before that point."""
    stored = StoredBytes(open_regular(path))
    try:
        content = decoder(compression, stored)
        head = b""
        while not until(head) and len(head) < HEAD_BYTES:
            more = content.read(64 << 10)
            if not more:
                break
            head += more
    finally:
        stored.close()
    return head, content.damage is not None


def read_csv_header(path: Path, compression: str | None) -> list[str] | None:
    """The column names of a CSV log's first line, trimmed (a UTF-8 BOM dropped); None when the
    data is damaged before that line ends (ingest then reports the damage)."""
    head, damaged = _head(path, compression, lambda h: b"\n" in h)
    first, ended, _ = head.partition(b"\n")
    if damaged and not ended:
        return None
    text = first.decode("utf-8", errors="replace").lstrip(_BOM).rstrip("\r\n")
    if not text.strip():
        return []
    return [name.strip() for name in next(csv.reader([text]))]


def _first_text_line(head: bytes) -> bytes | None:
    """HEAD's first line that is not blank, if HEAD holds all of it."""
    rest = head.removeprefix(_BOM.encode())
    while True:
        line, ended, rest = rest.partition(b"\n")
        if line.strip():
            return line if ended else None
        if not ended:
            return None


def is_snapshot_file(path: Path, compression: str | None) -> bool:
    """Whether a JSON Lines file holds snapshots (polls of ERP.net's views) rather than log events:
    its first line that is not blank is a JSON object with an ``entity_set`` key. A first line
    longer than HEAD_BYTES is judged by its start: an object naming ``"entity_set":``."""
    head, _ = _head(path, compression, lambda h: _first_text_line(h) is not None)
    line = _first_text_line(head)
    if line is None and len(head) < HEAD_BYTES:  # the file ends inside its first line
        line = head.removeprefix(_BOM.encode()).strip() or None
    if line is None:  # longer than the head
        start = head.removeprefix(_BOM.encode()).lstrip()
        return len(head) >= HEAD_BYTES and start.startswith(b"{") and _ENTITY_SET_KEY.search(start) is not None
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and "entity_set" in value


def _is_snapshot_file(source: SourceFile) -> bool:
    try:
        return is_snapshot_file(source.path, source.compression)
    except OSError:  # read as a log, whose reading then says what is wrong
        return False


def _check_csv_header(source: SourceFile) -> None:
    try:
        header = read_csv_header(source.path, source.compression)
    except OSError as exc:
        raise InputFileError(f"cannot read {source.path}: {exc.strerror or exc}") from None
    if header is None or (not header and source.size == 0):
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


def _source(path: Path, fmt: str, named_compression: str | None) -> tuple[SourceFile, tuple[int, int]]:
    """The SourceFile at PATH and its (device, inode); Unreadable if it is not a readable regular file."""
    fd = open_regular(path)
    try:
        st = os.fstat(fd)
        head = os.read(fd, len(ZSTD_MAGIC))
    except OSError as exc:
        raise Unreadable(_reason(path, exc)) from None
    finally:
        os.close(fd)
    source = SourceFile(path.absolute(), fmt, sniff_compression(head, named_compression), st.st_size)
    if fmt == "jsonl" and _is_snapshot_file(source):
        source = SourceFile(source.path, "snapshots", source.compression, source.size)
    if fmt == "csv":
        _check_csv_header(source)
    return source, (st.st_dev, st.st_ino)


def _walk(directory: Path, skipped: list[SkippedPath]) -> Iterator[Path]:
    """The files under DIRECTORY (hidden ones left out), each directory's files in name order
    before its subdirectories. Symbolic links to directories are followed; one that leads back
    into a directory being walked, and a subdirectory that cannot be listed, are SKIPPED."""
    walked: set[tuple[int, int]] = set()

    def walk(folder: Path, ancestors: frozenset[tuple[int, int]]) -> Iterator[Path]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedPath(folder.absolute(), f"cannot list directory: {_reason(folder, exc)}"))
            return
        subdirs: list[tuple[Path, tuple[int, int]]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                if not entry.name.startswith("."):
                    yield Path(entry.path)
                continue
            try:
                st = entry.stat()
            except OSError as exc:
                skipped.append(SkippedPath(Path(entry.path).absolute(), _reason(Path(entry.path), exc)))
                continue
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                skipped.append(SkippedPath(Path(entry.path).absolute(), "symbolic link loop (to a directory that contains it)"))
            elif key not in walked:  # else reached before by another link: its files are read once
                walked.add(key)
                subdirs.append((Path(entry.path), key))
        for path, key in subdirs:
            yield from walk(path, ancestors | {key})

    st = os.stat(directory)
    walked.add((st.st_dev, st.st_ino))
    yield from walk(directory, frozenset({(st.st_dev, st.st_ino)}))


def _named_problem(path: Path, reason: str) -> InputFileError:
    """The usage error for a path named on the command line that cannot be read."""
    if reason == "does not exist" or reason == "no such file or directory":
        return InputFileError(f"{path} does not exist; name an existing log file or directory")
    if reason == "permission denied":
        return InputFileError(f"cannot read {path}: permission denied; check the file's permissions")
    return InputFileError(f"cannot read {path}: {reason}; name a log file or a directory of them")


def find_sources(paths: Sequence[Path | str]) -> Sources:
    """Expand PATHS (files, or directories read recursively) into the log files to read.

    A file named on the command line must be a readable regular file named like a log
    (``.jsonl``/``.ndjson``/``.csv``, optionally ``.gz``/``.zst``); else this is a usage
    error naming the reason. Inside a directory, files named otherwise are listed as
    ignored, and log files that cannot be read (a dangling symbolic link, a link loop,
    a device, no permission) as skipped, with the reason. Each file is read once even
    if named twice.
    """
    if not paths:
        raise InputFileError("no input paths; name log files or directories to ingest")
    found: list[SourceFile] = []
    ignored: list[Path] = []
    skipped: list[SkippedPath] = []
    seen: set[tuple[int, int]] = set()

    def add(path: Path, named: tuple[str, str | None]) -> None:
        source, key = _source(path, *named)
        if key not in seen:
            seen.add(key)
            found.append(source)

    for raw in paths:
        path = Path(raw)
        try:
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)
        except OSError as exc:
            raise _named_problem(path, _reason(path, exc)) from None
        if is_dir:
            if not os.access(path, os.R_OK | os.X_OK):
                raise InputFileError(f"cannot read directory {path}: permission denied; check its permissions")
            for member in _walk(path, skipped):
                named = format_of(member)
                if named is None:
                    ignored.append(member)
                    continue
                try:
                    add(member, named)
                except Unreadable as exc:
                    skipped.append(SkippedPath(member.absolute(), str(exc)))
        else:
            named = format_of(path)
            if named is None:
                raise InputFileError(
                    f"{path}: cannot tell its format; log files are named *.jsonl, *.ndjson or *.csv, "
                    "optionally with .gz or .zst"
                )
            try:
                add(path, named)
            except Unreadable as exc:
                raise _named_problem(path, str(exc)) from None
    return Sources(found, ignored, skipped)
