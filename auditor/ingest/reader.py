"""Raw lines of a log file in large numbered batches, hashing the file as it goes.

Lines are cut with numpy and handed to DuckDB as Arrow strings without
copying, so that parsing and validation happen in one vectorised SQL statement
per batch and every line keeps its number for the rejects. One physical line is
one event (a CSV field cannot hold a line break: see the README's input contract).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from auditor.ingest.decode import Decoder, StoredBytes, decoder
from auditor.ingest.sources import SourceFile, open_regular
from auditor.limits import DEFAULT_MAX_LINE_BYTES

#: Decompressed bytes per batch: large enough that per-statement costs vanish,
#: small enough that memory stays flat whatever the input size.
CHUNK_BYTES = 16 << 20
#: DuckDB scans an Arrow table in parallel by record batch.
SLICES_PER_BATCH = 8
#: Of a line too long, the bytes kept as its raw text.
KEPT_HEAD_BYTES = 4 << 10
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


class LineReader:
    """Reads one SourceFile; ``batches()`` yields Arrow tables (line, raw, problem).

    ``raw`` keeps the line's end (``\\n``), since Arrow strings must be contiguous;
    the SQL strips it. After ``batches()`` is exhausted, ``sha256`` is the hex
    digest of the file's stored bytes and ``header`` the CSV header line.

    A line longer than ``max_line_bytes`` (its line break included) is never held
    whole: once the part read passes the limit, the rest is only counted, and the
    line becomes one "line" whose problem says ``line too long: N bytes`` and whose
    raw text is its head and a marker. Compressed data that breaks off, is corrupt
    or is followed by other bytes ends the file with one more "line" whose problem
    says where (see ``decode``), its raw text the partial line before the damage:
    the complete lines before it are read as usual.
    """

    def __init__(
        self,
        source: SourceFile,
        on_bytes: Callable[[int], None] | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.source = source
        self._on_bytes = on_bytes
        self.max_line_bytes = max_line_bytes
        self.header: str | None = None
        self.sha256: str | None = None

    def batches(self) -> Iterator[pa.Table]:
        """The file's lines in batches; Unreadable (from ``sources``) if it cannot be opened."""
        stored = StoredBytes(open_regular(self.source.path), self._on_bytes)
        try:
            content = decoder(self.source.compression, stored)
            yield from self._split(content)
            stored.drain()  # every stored byte is hashed, trailing garbage included
            self.sha256 = stored.sha256.hexdigest()
        finally:
            stored.close()

    def _split(self, content: Decoder) -> Iterator[pa.Table]:
        limit = self.max_line_bytes
        tail = b""  # the start of a line not ended yet, at most `limit` bytes
        long: _LongLine | None = None  # a line past the limit, counted to its end
        next_line = 1
        first = True
        expect_header = self.source.format == "csv"
        while True:
            chunk = content.read(CHUNK_BYTES)
            at_end = not chunk
            if first and chunk:
                chunk = chunk.removeprefix(_BOM)
                first = False
            if long is not None:
                cut = chunk.find(b"\n")
                if cut < 0:
                    long.size += len(chunk)
                    if not at_end:
                        continue
                    if content.damage is not None:  # the partial line is part of the damage
                        yield _problem_batch(next_line, long.text(), content.damage)
                        return
                else:
                    long.size += cut + 1
                    chunk = chunk[cut + 1 :]
                if expect_header:
                    self.header = long.head.decode("utf-8", errors="replace").rstrip("\r")
                    expect_header = False
                else:
                    yield _problem_batch(next_line, long.text(), long.reason())
                next_line += 1
                long = None
                if at_end:
                    return
            buf = tail + chunk if tail else chunk
            tail = b""
            unterminated = False
            if at_end and buf and not buf.endswith(b"\n"):
                if content.damage is not None:  # the partial last line is part of the damage, not an event
                    cut = buf.rfind(b"\n") + 1
                    tail, buf = buf[cut:], buf[:cut]
                else:
                    buf += b"\n"
                    unterminated = True
            ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
            if expect_header and len(ends):
                line, buf = buf[: ends[0] + 1], buf[ends[0] + 1 :]
                self.header = line[:limit].decode("utf-8", errors="replace").rstrip("\r\n")
                ends = ends[1:] - len(line)
                next_line += 1
                expect_header = False
            if len(ends):
                buf, ends, problems = _cut_long_lines(buf, ends, limit, unterminated)
                # (snapshot lines are not trimmed as a whole: they need not know)
                is_padded = self.source.format == "snapshots" or padded(buf, self.source.format)
                yield _batch(buf, ends, next_line, is_padded, problems)
                next_line += len(ends)
            if not at_end:
                rest = buf[int(ends[-1]) + 1 :] if len(ends) else buf
                if len(rest) > limit:
                    long = _LongLine(rest[:KEPT_HEAD_BYTES], len(rest))
                else:
                    tail = rest
                continue
            if content.damage is not None:
                yield _problem_batch(next_line, _text(tail), content.damage)
            return


@dataclass
class _LongLine:
    """A line past the limit: its first bytes, and its length so far (line break included)."""

    head: bytes
    size: int

    def text(self) -> str:
        return _cut_text(self.head, self.size)

    def reason(self) -> str:
        return f"line too long: {self.size} bytes"


def _text(line: bytes) -> str:
    return line.decode("utf-8", errors="backslashreplace")


def _cut_text(head: bytes, size: int) -> str:
    """The raw text kept of a line too long: its first KEPT_HEAD_BYTES (no character cut in two),
    then a marker with its full length."""
    head = head[:KEPT_HEAD_BYTES]
    for back in range(1, min(4, len(head)) + 1):  # a UTF-8 character cut at the end is left out
        byte = head[-back]
        if byte < 0x80:
            break
        if byte >= 0xC0:
            if back < (2 if byte < 0xE0 else 3 if byte < 0xF0 else 4):
                head = head[:-back]
            break
    return _text(head.rstrip(b"\r\n")) + f" … [cut: {size} bytes in all]"


def _cut_long_lines(
    buf: bytes, ends: np.ndarray, limit: int, unterminated: bool
) -> tuple[bytes, np.ndarray, dict[int, str] | None]:
    """BUF's complete lines (ending at ENDS), each longer than LIMIT replaced by the text kept of it;
    and the problem of each such line by its index (None if there is none). When UNTERMINATED, the
    last line's break was added by the reader and does not count."""
    lengths = np.diff(ends, prepend=-1)
    if unterminated:
        lengths[-1] -= 1
    too_long = np.flatnonzero(lengths > limit)
    if not len(too_long):
        return buf, ends, None
    starts = np.r_[0, ends[:-1] + 1]
    view = memoryview(buf)
    pieces: list[bytes | memoryview] = []
    problems: dict[int, str] = {}
    pos = 0
    for i in too_long.tolist():
        start, end, size = int(starts[i]), int(ends[i]), int(lengths[i])
        pieces.append(view[pos:start])
        pieces.append(_cut_text(bytes(view[start : min(end, start + KEPT_HEAD_BYTES)]), size).encode() + b"\n")
        problems[i] = f"line too long: {size} bytes"
        pos = end + 1
    pieces.append(view[pos:])
    cut = b"".join(pieces)
    return cut, np.flatnonzero(np.frombuffer(cut, dtype=np.uint8) == 10), problems


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


def _batch(
    buf: bytes, ends: np.ndarray, first_line: int, is_padded: bool = True, problems: dict[int, str] | None = None
) -> pa.Table:
    n = len(ends)
    # int32 offsets: a batch is CHUNK_BYTES plus one partial line of at most LARGEST_MAX_LINE_BYTES.
    assert len(buf) < 1 << 31
    offsets = np.empty(n + 1, dtype=np.int32)
    offsets[0] = 0
    offsets[1:] = ends + 1
    raw = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    problem: pa.Array = pa.nulls(n, pa.string()) if not problems else pa.array([problems.get(i) for i in range(n)], pa.string())
    try:
        raw.validate(full=True)
    except pa.ArrowInvalid:
        raw, problem = _replace_bad_utf8(buf, offsets, problems or {})
    lines = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    table = pa.Table.from_arrays([lines, raw, problem], schema=BATCH_SCHEMA)
    step = max(1, -(-n // SLICES_PER_BATCH))
    schema = BATCH_SCHEMA.with_metadata({PADDED_KEY: b"1" if is_padded else b"0"})
    return pa.Table.from_batches([b.replace_schema_metadata(schema.metadata) for b in table.to_batches(max_chunksize=step)], schema=schema)


def _problem_batch(line: int, text: str, problem: str) -> pa.Table:
    raw = text + "\n"
    return pa.Table.from_arrays([pa.array([line], pa.int64()), pa.array([raw]), pa.array([problem])], schema=BATCH_SCHEMA)


def _replace_bad_utf8(buf: bytes, offsets: np.ndarray, known: dict[int, str]) -> tuple[pa.Array, pa.Array]:
    """The slow path, for a batch with invalid UTF-8: such lines become rejects, shown escaped
    (a line with a KNOWN problem keeps it)."""
    texts: list[str] = []
    problems: list[str | None] = []
    for i in range(len(offsets) - 1):
        piece = buf[offsets[i] : offsets[i + 1]]
        try:
            texts.append(piece.decode("utf-8"))
            problems.append(known.get(i))
        except UnicodeDecodeError:
            texts.append(piece.decode("utf-8", errors="backslashreplace"))
            problems.append(known.get(i, "not valid UTF-8"))
    return pa.array(texts, pa.string()), pa.array(problems, pa.string())
