"""Damaged and hostile input files: compressed data cut short or followed by garbage, lines too
long, decompression bombs. Every line is counted, and nothing grows with the damage."""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zstandard
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from budget import examples

from auditor.exitcodes import ExitCode
from auditor.ingest import ingest
from auditor.ingest.reader import KEPT_HEAD_BYTES
from auditor.limits import DEFAULT_MAX_LINE_BYTES, LARGEST_MAX_LINE_BYTES, SMALLEST_MAX_LINE_BYTES, InputBounds
from auditor.warehouse import Warehouse
from tests.ingest_support import rows

MAGIC_FIRST_BYTES = {0x1F, 0x28} | set(range(0x50, 0x60))  # gzip, zstd, zstd skippable frames


def log_lines(n: int, salt: int = 0) -> list[bytes]:
    """N distinct valid events, one a second from midnight, with user names that do not compress away."""
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    return [
        json.dumps(
            {
                "ts": (start + timedelta(seconds=m)).isoformat(),
                "instance": "acme.my.erp.net",
                "event": "request",
                "session_id": f"s{salt}-{m}",
                "user": f"{(m * 2654435761 + salt) % 2**61:x}",
            }
        ).encode()
        + b"\n"
        for m in range(n)
    ]


def compressed(lines: list[bytes], compression: str, pieces: int = 1) -> bytes:
    """LINES as PIECES gzip members or zstd frames, one after another."""
    step = -(-len(lines) // pieces) or 1
    parts = [b"".join(lines[i : i + step]) for i in range(0, len(lines), step)]
    if compression == "gz":
        return b"".join(gzip.compress(p) for p in parts)
    return b"".join(zstandard.ZstdCompressor().compress(p) for p in parts)


def reference_lines(data: bytes, compression: str) -> int:
    """Complete lines a plain one-shot decoder gets from DATA before it stops (members/frames in turn)."""
    return reference(data, compression)[0]


def reference(data: bytes, compression: str) -> tuple[int, bool]:
    """reference_lines, and whether DATA is complete members/frames and nothing else (a cut that falls
    exactly between two of them leaves a valid file, in which no damage can be seen)."""
    out = b""
    magic = b"\x1f\x8b" if compression == "gz" else b"\x28\xb5\x2f\xfd"
    whole = False
    while data:
        d = zlib.decompressobj(31) if compression == "gz" else zstandard.ZstdDecompressor().decompressobj()
        try:
            out += d.decompress(data)
        except (zlib.error, zstandard.ZstdError):
            break
        if not d.eof:
            break
        data = d.unused_data
        whole = not data
        if not data.startswith(magic):
            break
    return out.count(b"\n"), whole


def ingest_one(tmp_path: Path, name: str, data: bytes, **kw):
    path = tmp_path / name
    path.write_bytes(data)
    wh = Warehouse.open(tmp_path / f"wh-{name}", create=True)
    result = ingest(wh, [path], **kw)
    return result.files[0], wh


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_a_file_cut_in_half_keeps_every_complete_line_before_the_cut(tmp_path: Path, compression: str) -> None:
    data = compressed(log_lines(1440), compression, pieces=4)
    cut = data[: len(data) // 2]
    f, wh = ingest_one(tmp_path, f"half.jsonl.{compression}", cut)
    expected = reference_lines(cut, compression)
    assert expected >= 360  # zstd: whole frames; gzip: lines up to the cut
    assert (f.read, f.accepted, f.duplicates, f.rejected) == (expected + 1, expected, 0, 1)
    name = "gzip" if compression == "gz" else "zstd"
    assert rows(wh, "SELECT line, reason FROM rejects") == [(expected + 1, f"unreadable: {name} data cut short at byte {len(cut)}")]
    assert rows(wh, "SELECT count(*) FROM events") == [(expected,)]


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_a_large_file_missing_its_last_bytes_loses_no_complete_line(tmp_path: Path, compression: str) -> None:
    lines = log_lines(100_000)
    data = compressed(lines, compression)  # zstd: more than one 1 MiB read
    cut = data[:-100]
    f, wh = ingest_one(tmp_path, f"cut.jsonl.{compression}", cut)
    expected = reference_lines(cut, compression)
    assert expected > 99_000
    assert (f.read, f.accepted, f.rejected) == (expected + 1, expected, 1)
    (raw,) = rows(wh, "SELECT raw FROM rejects")[0]
    assert raw and lines[expected].decode().startswith(raw)  # the partial line before the damage


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_garbage_after_a_valid_file_is_one_reject_after_all_its_lines(tmp_path: Path, compression: str) -> None:
    data = compressed(log_lines(1440), compression)
    f, wh = ingest_one(tmp_path, f"tail.jsonl.{compression}", data + b"GARBAGE!")
    assert (f.read, f.accepted, f.rejected) == (1441, 1440, 1)
    name = "gzip" if compression == "gz" else "zstd"
    assert rows(wh, "SELECT line, reason, raw FROM rejects") == [
        (1441, f"unreadable: {name} data followed by bytes that are not {name} at byte {len(data)}", "")
    ]
    # the hash covers every stored byte, the garbage included
    assert f.sha256 == hashlib.sha256(data + b"GARBAGE!").hexdigest()


@settings(max_examples=examples(20))
# A cut that falls exactly between two zstd frames (hypothesis found it in CI): a valid shorter file.
@example(compression="zst", n=42, pieces=3, where=0.3352673257305013, garbage=None, salt=0)
@given(
    compression=st.sampled_from(["gz", "zst"]),
    n=st.integers(1, 1200),
    pieces=st.integers(1, 3),
    where=st.floats(0, 1),
    garbage=st.one_of(st.none(), st.binary(min_size=1, max_size=64)),
    salt=st.integers(0, 2**31),
)
def test_read_is_the_complete_lines_before_the_damage_plus_one(
    tmp_path: Path, compression: str, n: int, pieces: int, where: float, garbage: bytes | None, salt: int
) -> None:
    data = compressed(log_lines(n, salt), compression, pieces)
    if garbage is None:
        damaged = data[: max(1, round(len(data) * where))]
    else:
        assume(garbage[0] not in MAGIC_FIRST_BYTES)
        damaged = data + garbage
    example = Path(tempfile.mkdtemp(dir=tmp_path))  # tmp_path is shared by the examples
    f, wh = ingest_one(example, f"damaged.jsonl.{compression}", damaged)
    assert f.read == f.accepted + f.duplicates + f.rejected
    if damaged == data:
        assert (f.read, f.accepted, f.rejected) == (n, n, 0)
        return
    expected, whole = reference(damaged, compression)
    if whole:  # cut exactly after a member/frame: a valid, shorter file
        assert (f.read, f.accepted, f.rejected) == (expected, expected, 0)
        return
    assert (f.read, f.accepted, f.rejected) == (expected + 1, expected, 1)
    ((line, reason),) = rows(wh, "SELECT line, reason FROM rejects")
    assert line == expected + 1 and reason.startswith("unreadable: ")


def test_a_line_too_long_is_one_reject_cut_to_its_head_and_line_numbers_stay_exact(tmp_path: Path) -> None:
    lines = log_lines(4)
    huge = json.dumps({"ts": "2026-10-01T09:00:00Z", "instance": "acme.my.erp.net", "event": "request",
                       "session_id": "big", "user": "é" * (30 << 20)}, ensure_ascii=False).encode() + b"\n"
    data = lines[0] + huge + lines[1] + lines[2] + lines[3]
    f, wh = ingest_one(tmp_path, "long.jsonl", data)
    assert (f.read, f.accepted, f.rejected) == (5, 4, 1)
    ((line, reason, raw),) = rows(wh, "SELECT line, reason, raw FROM rejects")
    assert (line, reason) == (2, f"line too long: {len(huge)} bytes")
    assert raw.endswith(f" … [cut: {len(huge)} bytes in all]") and len(raw.encode()) <= KEPT_HEAD_BYTES + 64
    assert huge.decode().startswith(raw.split(" … [cut:")[0])  # whole characters, none cut in two
    assert rows(wh, 'SELECT max(length("user")) <= 16 FROM events') == [(True,)]
    assert rows(wh, "SELECT count(*) FROM events WHERE session_id = 's0-3'") == [(1,)]


@pytest.mark.parametrize("final_break", [True, False])
def test_the_limit_counts_the_line_break_and_is_exact(tmp_path: Path, final_break: bool) -> None:
    limit = SMALLEST_MAX_LINE_BYTES

    def line(m: int, size: int) -> bytes:  # a valid event of SIZE bytes, its line break included
        head = log_lines(m + 1)[m][:-2] + b', "app": "'
        return head + b"x" * (size - len(head) - 3) + b'"}\n'

    short, exact, over = line(0, limit - 1), line(1, limit), line(2, limit + 1)
    last = line(3, limit + 1)  # without its break: exactly `limit`, and accepted
    data = short + exact + over + (last if final_break else last[:-1])
    f, wh = ingest_one(tmp_path, f"edge-{final_break}.jsonl", data, bounds=InputBounds(max_line_bytes=limit))
    expected = [(3, f"line too long: {limit + 1} bytes")] + ([(4, f"line too long: {limit + 1} bytes")] if final_break else [])
    assert rows(wh, "SELECT line, reason FROM rejects ORDER BY line") == expected
    assert f.accepted == 4 - len(expected)


def test_a_decompression_bomb_is_one_line_too_long(tmp_path: Path) -> None:
    # 64 MiB of zero bytes, one endless line, in about 65 KB of gzip
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(packer.compress(bytes(1 << 20)) for _ in range(64)) + packer.flush()
    assert len(data) < 100_000
    f, wh = ingest_one(tmp_path, "bomb.jsonl.gz", data)
    assert (f.read, f.accepted, f.duplicates, f.rejected) == (1, 0, 0, 1)
    ((reason, raw),) = rows(wh, "SELECT reason, raw FROM rejects")
    assert reason == f"line too long: {64 << 20} bytes" and len(raw) < KEPT_HEAD_BYTES + 64


def test_a_damaged_csv_header_is_the_damage_not_a_usage_error(tmp_path: Path) -> None:
    data = gzip.compress(b"ts,instance,event\n2026-10-01T08:00:00Z,acme.my.erp.net,restart\n")
    f, wh = ingest_one(tmp_path, "cut.csv.gz", data[:12])
    assert (f.read, f.rejected) == (1, 1)
    assert rows(wh, "SELECT line, reason FROM rejects") == [(1, "unreadable: gzip data cut short at byte 12")]


@pytest.mark.parametrize("command", ["ingest", "nightly"])
@pytest.mark.parametrize("value", ["0", str(SMALLEST_MAX_LINE_BYTES - 1), str(LARGEST_MAX_LINE_BYTES + 1), "1MB"])
def test_a_bad_max_line_bytes_is_one_line_and_exit_2(invoke, tmp_path: Path, command: str, value: str) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.jsonl").write_bytes(log_lines(1)[0])
    where = ["--logs", logs] if command == "nightly" else [logs]
    result = invoke(command, "-w", tmp_path / "wh", "--max-line-bytes", value, *where)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1 and "max-line-bytes" in result.stderr, result.stderr
    assert not (tmp_path / "wh").exists()


def test_max_line_bytes_is_an_option_of_ingest(invoke, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"".join(log_lines(3)))
    longest = max(len(line) for line in log_lines(3))
    assert longest < DEFAULT_MAX_LINE_BYTES
    result = invoke("ingest", "-w", tmp_path / "wh", "--max-line-bytes", str(SMALLEST_MAX_LINE_BYTES), path)
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "wh", "SELECT count(*) FROM events") == [(3,)]
