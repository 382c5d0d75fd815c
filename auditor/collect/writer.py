"""Snapshot lines appended to ``DIR/INSTANCE/YYYY-MM-DD.jsonl``, safely.

A line is written whole, flushed and fsynced before the call returns, so that
the next poll of the instance starts only once its predecessor is on disk. A
collector killed in the middle of a write leaves a torn last line; the first
time this process opens a file it repairs that line (when only the line break is
missing) or cuts it, so that no later line is ever joined to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: How far back from a file's end to look for the last line break when repairing it.
_TAIL = 1 << 20


def format_ts(ts: datetime) -> str:
    """An instant as the snapshot format writes it: UTC, milliseconds, ``Z``."""
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def encode_line(line: dict[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class SnapshotWriter:
    """Appends lines for the instances under OUT; LOG receives one line for each repair."""

    def __init__(self, out: Path, log: Callable[[str], None] = lambda _: None) -> None:
        self.out = out
        self.log = log
        self._checked: set[Path] = set()

    def instance_dir(self, instance: str) -> Path:
        return self.out / instance

    def file_for(self, instance: str, polled_at: datetime) -> Path:
        return self.instance_dir(instance) / f"{polled_at.astimezone(timezone.utc):%Y-%m-%d}.jsonl"

    def repair_latest(self, instance: str) -> None:
        """At start-up: repair the instance's newest file, the only one a crash can have left torn."""
        folder = self.instance_dir(instance)
        if folder.is_dir():
            files = sorted(folder.glob("????-??-??.jsonl"))
            if files:
                self._check(files[-1])

    def write(self, instance: str, polled_at: datetime, line: dict[str, Any]) -> Path:
        """Append LINE to the day file of POLLED_AT; returns once it is on disk."""
        path = self.file_for(instance, polled_at)
        data = encode_line(line)
        if path not in self._checked:
            self._check(path)
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)
        return path

    def _check(self, path: Path) -> None:
        self._checked.add(path)
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(path.parent.parent)
            return
        repair_torn_line(path, self.log)


def repair_torn_line(path: Path, log: Callable[[str], None] = lambda _: None) -> str | None:
    """Make PATH end with a line break: 'repaired' (the torn line is whole JSON), 'cut', or None (nothing to do)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "r+b") as f:
        start = max(0, size - _TAIL)
        f.seek(start)
        tail = f.read()
        if tail.endswith(b"\n"):
            return None
        cut = tail.rfind(b"\n")
        keep = start + cut + 1 if cut >= 0 else (0 if start == 0 else None)
        torn = tail[cut + 1:] if cut >= 0 else tail
        try:
            whole = isinstance(json.loads(torn), dict)
        except ValueError:
            whole = False
        if whole:
            f.seek(size)
            f.write(b"\n")
            outcome = "repaired"
        else:
            if keep is None:  # no line break in the last MiB: cut back to the last one anywhere
                keep = _last_break_before(f, start) + 1
            f.truncate(keep)
            outcome = "cut"
        f.flush()
        os.fsync(f.fileno())
    log(f"{path}: torn last line {outcome} ({size - keep if outcome == 'cut' else 0} byte(s) dropped)")
    return outcome


def _last_break_before(f: Any, end: int) -> int:
    while end > 0:
        start = max(0, end - _TAIL)
        f.seek(start)
        chunk = f.read(end - start)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return start + at
        end = start
    return -1


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
