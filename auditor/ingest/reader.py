"""Raw lines of a log file in large numbered batches, hashing the file as it goes.

Lines are cut with numpy and handed to DuckDB as Arrow strings without
copying, so that parsing and validation happen in one vectorised SQL statement
per batch and every line keeps its number for the rejects. One physical line is
one event (a CSV field cannot hold a line break: see the README's input contract).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import zstandard

from auditor.ingest.sources import SourceFile

#: Decompressed bytes per batch: large enough that per-statement costs vanish,
#: small enough that memory stays flat whatever the input size.
CHUNK_BYTES = 48 << 20
#: DuckDB scans an Arrow table in parallel by record batch.
SLICES_PER_BATCH = 8
_PIECE_BYTES = 256 << 10
_BOM = b"\xef\xbb\xbf"
#: ``problem`` is NULL for an ordinary line, else why it cannot be read (it becomes the reject reason).
BATCH_SCHEMA = pa.schema([("line", pa.int64()), ("raw", pa.string()), ("problem", pa.string())])
#: Batch metadata: b"0" when no field of any line can start or end with a space, so that
#: staging may skip trimming (see ``padded``); absent or b"1" when one might.
PADDED_KEY = b"auditor.padded"
#: Bytes next to which a space shows that a field may start (before it) or end (after it) with a
#: space, per format. In JSON a string that starts with a space opens with '" ' (or escapes the
#: space as \u0020) and one that ends with a space closes with ' "'; numbers and the compact text
#: DuckDB gives for nested values have no outer spaces. In CSV an unquoted field starts after a
#: comma or a line start and ends before a comma or the line end; a quoted one shows its spaces
#: inside its quotes.
_PAD_BEFORE = {"jsonl": [ord('"')], "csv": [ord(","), ord("\n"), ord('"')]}
_PAD_AFTER = {"jsonl": [ord('"')], "csv": [ord(","), ord("\n"), ord("\r"), ord('"')]}


class _HashingRaw(io.RawIOBase):
    """The file's bytes as stored (compressed or not), hashed and counted as they pass."""

    def __init__(self, path: Path, on_bytes: Callable[[int], None] | None) -> None:
        self._fh = open(path, "rb", buffering=0)
        self.sha256 = hashlib.sha256()
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        n = self._fh.readinto(buffer)
        if n:
            self.sha256.update(memoryview(buffer)[:n])
            if self._on_bytes is not None:
                self._on_bytes(n)
        return n or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


class _ZstdFrames:
    """Decompresses every zstd frame in turn, and, unlike zstandard's stream reader,
    raises EOFError when the last frame is cut short instead of ending quietly."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._frame = self._dctx.decompressobj()
        self._in_frame = False
        self._pending = b""

    def read(self, n: int) -> bytes:
        out: list[bytes] = []
        size = 0
        while size < n:
            data = self._pending or self._raw.read(1 << 20)
            self._pending = b""
            if not data:
                if self._in_frame:
                    raise EOFError("the last zstd frame is cut short")
                break
            piece = self._frame.decompress(data)
            self._in_frame = True
            if self._frame.eof:
                self._pending = self._frame.unused_data
                self._frame = self._dctx.decompressobj()
                self._in_frame = False
            out.append(piece)
            size += len(piece)
        return b"".join(out)

    def close(self) -> None:
        self._raw.close()


class LineReader:
    """Reads one SourceFile; ``batches()`` yields Arrow tables (line, raw, problem).

    ``raw`` keeps the line's end (``\\n``), since Arrow strings must be contiguous;
    the SQL strips it. After ``batches()`` is exhausted, ``sha256`` is the hex
    digest of the file's stored bytes and ``header`` the CSV header line.
    Compressed data that breaks off or is corrupt ends the file with one more
    "line" whose problem says so: the lines before it still count.
    """

    def __init__(self, source: SourceFile, on_bytes: Callable[[int], None] | None = None) -> None:
        self.source = source
        self._on_bytes = on_bytes
        self.header: str | None = None
        self.sha256: str | None = None

    def _stream(self, raw: _HashingRaw) -> io.RawIOBase | io.BufferedIOBase:
        buffered = io.BufferedReader(raw, buffer_size=4 << 20)
        if self.source.compression == "gzip":
            return gzip.GzipFile(fileobj=buffered, mode="rb")
        if self.source.compression == "zstd":
            return _ZstdFrames(buffered)
        return buffered

    def batches(self) -> Iterator[pa.Table]:
        raw = _HashingRaw(self.source.path, self._on_bytes)
        try:
            stream = self._stream(raw)
            yield from self._split(stream)
            # Reading to EOF hashed every stored byte, trailing garbage included.
            while raw.readinto(bytearray(1 << 20)):
                pass
            self.sha256 = raw.sha256.hexdigest()
        finally:
            raw.close()

    def _read_chunk(self, stream) -> tuple[bytes, str | None]:  # type: ignore[no-untyped-def]
        """Up to CHUNK_BYTES of content; for compressed data in small pieces, so that damage
        loses no more than a piece of what came before it."""
        if self.source.compression is None:
            return stream.read(CHUNK_BYTES), None
        pieces: list[bytes] = []
        size = 0
        while size < CHUNK_BYTES:
            try:
                piece = stream.read(_PIECE_BYTES)
            except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
                reason = f"unreadable: {self.source.compression} data is corrupt or cut short ({exc or type(exc).__name__})"
                return b"".join(pieces), reason
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        return b"".join(pieces), None

    def _split(self, stream) -> Iterator[pa.Table]:  # type: ignore[no-untyped-def]
        tail = b""
        next_line = 1
        first = True
        expect_header = self.source.format == "csv"
        while True:
            chunk, broken = self._read_chunk(stream)
            at_end = not chunk or broken is not None
            buf = tail + chunk if tail else chunk
            tail = b""
            if first and buf:
                buf = buf.removeprefix(_BOM)
                first = False
            if expect_header:
                cut = buf.find(b"\n")
                if cut < 0 and not at_end:
                    tail = buf
                    continue
                line, buf = (buf, b"") if cut < 0 else (buf[:cut], buf[cut + 1 :])
                self.header = line.decode("utf-8", errors="replace").rstrip("\r")
                next_line += 1
                expect_header = False
            if broken is not None:
                # a partial last line is part of the damage, not an event
                cut = buf.rfind(b"\n") + 1
                partial, buf = buf[cut:], buf[:cut]
            elif at_end and buf and not buf.endswith(b"\n"):
                buf += b"\n"
            ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
            if len(ends):
                yield _batch(buf, ends, next_line, padded(buf, self.source.format))
                next_line += len(ends)
                tail = buf[int(ends[-1]) + 1 :]
            else:
                tail = buf
            if broken is not None:
                yield _problem_batch(next_line, partial, broken)
                return
            if at_end:
                return


def padded(buf: bytes, fmt: str) -> bool:
    """Whether some field in BUF's lines might start or end with a space (False is certain).

    Looks only at the spaces' neighbours (numpy; Python's ``in`` for each pair of
    bytes cost more than the trimming it saves).
    """
    data = np.frombuffer(buf, dtype=np.uint8)
    if not len(data):
        return False
    if data[0] == 32:
        return True
    spaces = np.flatnonzero(data == 32)
    if len(spaces):
        if np.isin(data[spaces - 1], _PAD_BEFORE[fmt]).any():
            return True
        if np.isin(data[np.minimum(spaces + 1, len(data) - 1)], _PAD_AFTER[fmt]).any():
            return True
    return fmt == "jsonl" and bool((data == 92).any()) and b"\\u0020" in buf


def _batch(buf: bytes, ends: np.ndarray, first_line: int, is_padded: bool = True) -> pa.Table:
    n = len(ends)
    # int32 offsets: a batch is CHUNK_BYTES plus one partial line, far below 2 GiB.
    offsets = np.empty(n + 1, dtype=np.int32)
    offsets[0] = 0
    offsets[1:] = ends + 1
    raw = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    problem: pa.Array = pa.nulls(n, pa.string())
    try:
        raw.validate(full=True)
    except pa.ArrowInvalid:
        raw, problem = _replace_bad_utf8(buf, offsets)
    lines = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    table = pa.Table.from_arrays([lines, raw, problem], schema=BATCH_SCHEMA)
    step = max(1, -(-n // SLICES_PER_BATCH))
    schema = BATCH_SCHEMA.with_metadata({PADDED_KEY: b"1" if is_padded else b"0"})
    return pa.Table.from_batches([b.replace_schema_metadata(schema.metadata) for b in table.to_batches(max_chunksize=step)], schema=schema)


def _problem_batch(line: int, partial: bytes, problem: str) -> pa.Table:
    raw = partial.decode("utf-8", errors="backslashreplace") + "\n"
    return pa.Table.from_arrays([pa.array([line], pa.int64()), pa.array([raw]), pa.array([problem])], schema=BATCH_SCHEMA)


def _replace_bad_utf8(buf: bytes, offsets: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """The slow path, for a batch with invalid UTF-8: such lines become rejects, shown escaped."""
    texts: list[str] = []
    problems: list[str | None] = []
    for i in range(len(offsets) - 1):
        piece = buf[offsets[i] : offsets[i + 1]]
        try:
            texts.append(piece.decode("utf-8"))
            problems.append(None)
        except UnicodeDecodeError:
            texts.append(piece.decode("utf-8", errors="backslashreplace"))
            problems.append("not valid UTF-8")
    return pa.array(texts, pa.string()), pa.array(problems, pa.string())
