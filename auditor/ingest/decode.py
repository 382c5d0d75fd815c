"""A log file's content, decoded incrementally, keeping everything decoded before any damage.

gzip and zstd data are decoded a small piece of compressed input at a time
(every gzip member, every zstd frame, one after another), so that the output
decoded before corrupt data, an end cut short or trailing bytes is kept, and
so that no piece of output is larger than a few megabytes however well the
input compresses. Where decoding stops, ``damage`` says why and at which byte
of the stored file; ``read`` then returns b"".
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable
from typing import Any

import zstandard

#: Compressed bytes handed to a decoder at once. A zstd block of 4 bytes can stand for
#: 128 KiB, so this bounds one call's output to about 32 MiB; the cost per call is nil.
ZSTD_PIECE_BYTES = 1 << 10
#: gzip's output is bounded by ``max_length`` instead; small pieces keep a corrupt
#: byte's position (and the output lost with the call that finds it) small.
GZIP_PIECE_BYTES = 4 << 10
GZIP_OUTPUT_BYTES = 1 << 20
#: Stored bytes read at once.
READ_BYTES = 1 << 20
_SMALL_READ_BYTES = 64 << 10

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: A skippable zstd frame starts with 0x184D2A50..5F, little-endian: 5? 2A 4D 18.
_ZSTD_SKIPPABLE_TAIL = b"\x2a\x4d\x18"


class StoredBytes:
    """A regular file's bytes as stored, hashed and counted as they are read (``fd`` is owned)."""

    def __init__(self, fd: int, on_bytes: Callable[[int], None] | None = None) -> None:
        self._fd = fd
        self._on_bytes = on_bytes
        self.sha256 = hashlib.sha256()
        self.offset = 0
        self._size = os.fstat(fd).st_size

    def read(self, n: int) -> bytes:
        # os.read allocates all N bytes first: ask for no more than the file should still hold
        # (a little more, since it may be growing), which for a small file is far less than N
        data = os.read(self._fd, min(n, max(self._size - self.offset, 0) + _SMALL_READ_BYTES))
        if data:
            self.sha256.update(data)
            self.offset += len(data)
            if self._on_bytes is not None:
                self._on_bytes(len(data))
        return data

    def read_all(self, n: int) -> bytes:
        """N bytes, fewer only at the end of the file (os.read may return less)."""
        pieces = []
        size = 0
        while size < n:
            data = self.read(n - size)
            if not data:
                break
            pieces.append(data)
            size += len(data)
        return b"".join(pieces)

    def drain(self) -> None:
        """Read (and hash) the rest of the file."""
        while self.read(READ_BYTES):
            pass

    def close(self) -> None:
        os.close(self._fd)


class Decoder:
    """The common part: ``read(n)`` gathers at least N bytes of content (fewer only at its end)."""

    name = ""

    def __init__(self, stored: StoredBytes) -> None:
        self._stored = stored
        #: None, or why decoding stopped before the file's end (a reject reason).
        self.damage: str | None = None
        self._buf = b""  # stored bytes read; those from self._pos on are not decoded yet
        self._pos = 0
        self._offset = 0  # position in the file of self._buf[self._pos]
        self._done = False

    def read(self, n: int) -> bytes:
        out: list[bytes] = []
        size = 0
        while size < n and not self._done:
            piece = self._step()
            if piece:
                out.append(piece)
                size += len(piece)
        return b"".join(out)

    def _step(self) -> bytes:
        raise NotImplementedError

    def _more(self, at_least: int) -> bool:
        """Hold AT_LEAST undecoded bytes if the file has them; False if none is left."""
        if len(self._buf) - self._pos < at_least:
            self._buf = self._buf[self._pos :] + self._stored.read_all(READ_BYTES)
            self._pos = 0
        return self._pos < len(self._buf)

    def _piece(self, size: int) -> bytes:
        return self._buf[self._pos : self._pos + size]

    def _consumed(self, n: int) -> None:
        self._pos += n
        self._offset += n

    def _stop(self, what: str) -> None:
        self.damage = f"unreadable: {self.name} data {what} at byte {self._offset}"
        self._done = True


class PlainDecoder(Decoder):
    def read(self, n: int) -> bytes:
        return self._stored.read_all(n)


class GzipDecoder(Decoder):
    """gzip members one after another, each checked to its end (CRC and length)."""

    name = "gzip"

    def __init__(self, stored: StoredBytes) -> None:
        super().__init__(stored)
        self._member: Any = None  # a zlib decompressobj while inside a member

    def _step(self) -> bytes:
        if not self._more(len(GZIP_MAGIC)):
            if self._member is not None:
                self._stop("cut short")
            self._done = True
            return b""
        if self._member is None:
            if not GZIP_MAGIC.startswith(self._piece(len(GZIP_MAGIC))):
                self._stop("followed by bytes that are not gzip")
                return b""
            self._member = zlib.decompressobj(wbits=31)
        piece = self._piece(GZIP_PIECE_BYTES)
        try:
            out = self._member.decompress(piece, GZIP_OUTPUT_BYTES)
        except zlib.error:
            self._stop("corrupt")
            return b""
        rest = self._member.unused_data if self._member.eof else self._member.unconsumed_tail
        self._consumed(len(piece) - len(rest))
        if self._member.eof:
            self._member = None
        return out


class ZstdDecoder(Decoder):
    """zstd frames one after another (skippable frames included)."""

    name = "zstd"

    def __init__(self, stored: StoredBytes) -> None:
        super().__init__(stored)
        self._dctx = zstandard.ZstdDecompressor()
        self._frame: Any = None  # a zstandard decompressobj while inside a frame

    def _step(self) -> bytes:
        if not self._more(len(ZSTD_MAGIC)):
            if self._frame is not None:
                self._stop("cut short")
            self._done = True
            return b""
        if self._frame is None:
            head = self._piece(len(ZSTD_MAGIC))
            skippable = 0x50 <= head[0] <= 0x5F and _ZSTD_SKIPPABLE_TAIL.startswith(head[1:])
            if not (ZSTD_MAGIC.startswith(head) or skippable):
                self._stop("followed by bytes that are not zstd")
                return b""
            self._frame = self._dctx.decompressobj()
        piece = self._piece(ZSTD_PIECE_BYTES)
        try:
            out = self._frame.decompress(piece)
        except zstandard.ZstdError:
            self._stop("corrupt")
            return b""
        if self._frame.eof:
            self._consumed(len(piece) - len(self._frame.unused_data))
            self._frame = None
        else:
            self._consumed(len(piece))
        return out


def decoder(compression: str | None, stored: StoredBytes) -> Decoder:
    """The decoder of a file compressed with COMPRESSION (None, "gzip" or "zstd")."""
    if compression == "gzip":
        return GzipDecoder(stored)
    if compression == "zstd":
        return ZstdDecoder(stored)
    return PlainDecoder(stored)
