"""Polled instances as snapshot files: ``auditor generate --format snapshots``.

``generate_snapshots(OUT, ...)`` simulates a random fleet's true sessions
(:mod:`auditor.generate.polling`), polls each instance every few minutes and
writes what a collector would have written: ``OUT/snapshots/DAY_NN.jsonl``
files (several per UTC day, lines shuffled across them, a few written twice,
optionally compressed), ``OUT/entitlements.csv``, and, when asked, the truth
(every true session) as JSON Lines for the tests to check bounds against.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np

from auditor.errors import UsageError
from auditor.generate import check_size, fleet, prepare_out_dir
from auditor.generate.logfiles import COMPRESSIONS, read_bytes, write_lines
from auditor.generate.polling import PollPlan, Simulation, poll_lines, simulate
from auditor.generate.snapshots import TrueSession, iso_ms

SNAPSHOTS_DIR = "snapshots"
#: The names of the snapshot files the generator writes: DAY_NN.jsonl[.COMPRESSION].
SNAPSHOT_NAME = re.compile(r"\d{4}-\d{2}-\d{2}_\d{2}\.jsonl(\.gz|\.zst)?")
#: Share of lines written a second time (a collector that retried a write).
DUPLICATE_RATE = 0.002
OUTAGE = timedelta(minutes=40)


@dataclass
class SnapshotResult:
    out_dir: Path
    files: list[Path]
    entitlements: Path
    truth: Path | None
    instances: int
    days: int
    #: Lines written (duplicates included), polls listed and polls failed.
    lines: int
    polls: int
    failed_polls: int
    #: True sessions (the collector's included), refused logins, restarts.
    sessions: int
    refused_logins: int
    restarts: int
    #: What was planted where (``auditor.generate.plants``): instance -> names planted at least once.
    planted: dict[str, tuple[str, ...]] = field(default_factory=dict)


def generate_snapshots(
    out_dir: Path,
    *,
    seed: int,
    instances: int,
    days: int,
    start: date,
    poll_every: timedelta,
    compression: str | None = None,
    files_per_day: int = 3,
    truth: Path | None = None,
    overwrite: bool = False,
) -> SnapshotResult:
    """Write a random fleet's polls (see the module doc); the same arguments give the same bytes."""
    check_size(instances=instances, days=days, compression=compression, files_per_day=files_per_day)
    if poll_every < timedelta(seconds=30):
        raise UsageError(f"--poll-every must be at least 30s, not {poll_every}")
    out_dir = Path(out_dir)
    prepare_out_dir(out_dir, overwrite=overwrite, sub=SNAPSHOTS_DIR, names=SNAPSHOT_NAME)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    specs = fleet.random_fleet(rng, instances, start, days)
    begin = datetime.combine(start, time(), timezone.utc)
    end = begin + timedelta(days=days)
    sims = []
    for i, spec in enumerate(specs):
        outage_at = begin + timedelta(seconds=int(rng.integers(int((end - begin - OUTAGE).total_seconds()))))
        # Every other instance starts on an old server, upgraded (a restart) within the first third.
        old_until = begin + (end - begin) * float(rng.uniform(0.05, 0.33)) if i % 2 == 0 else None
        plan = PollPlan(begin, end, poll_every, outage=(outage_at, outage_at + OUTAGE), old_server_until=_to_ms(old_until))
        sims.append(simulate(spec, plan, seed=int(rng.integers(2**32))))
    fleet.write_entitlements(out_dir / "entitlements.csv", specs)
    return write_snapshots(
        out_dir, sims, start=start, days=days, compression_of=lambda _day: compression,
        files_per_day=files_per_day, seed=int(rng.integers(2**32)), truth=truth,
    )


def write_snapshots(
    out_dir: Path,
    sims: Sequence[Simulation],
    *,
    start: date,
    days: int,
    compression_of: Callable[[date], str | None],
    files_per_day: int,
    seed: int,
    truth: Path | None,
    best: bool = False,
) -> SnapshotResult:
    """Write the lines of SIMS as day files under OUT_DIR/snapshots, and the truth (when asked).

    ``compression_of(day)`` names each day's compression; BEST compresses harder (the committed sample).
    """
    rng = random.Random(seed)
    by_day: list[list[str]] = [[] for _ in range(days)]
    first = datetime.combine(start, time(), timezone.utc)
    for sim in sims:
        for at, line in poll_lines(sim):
            by_day[min(max((at - first).days, 0), days - 1)].append(line)
    folder = out_dir / SNAPSHOTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    written = 0
    for d, lines in enumerate(by_day):
        day = start + timedelta(days=d)
        # A collector's several writers, each appending as it goes: any order, a few lines twice.
        rng.shuffle(lines)
        twice = [lines[rng.randrange(len(lines))] for _ in range(round(len(lines) * DUPLICATE_RATE))] if lines else []
        shards: list[list[str]] = [[] for _ in range(files_per_day)]
        for line in lines + twice:
            shards[rng.randrange(files_per_day)].append(line)
        for n, shard in enumerate(shards):
            if not shard:
                continue
            path = folder / f"{day.isoformat()}_{n + 1:02d}.jsonl{COMPRESSIONS[compression_of(day)]}"
            write_lines(path, shard, best=best)
            files.append(path)
            written += len(shard)
    if truth is not None:
        write_truth(truth, sims)
    polls = [p for sim in sims for p in sim.polls]
    return SnapshotResult(
        out_dir=out_dir,
        files=files,
        entitlements=out_dir / "entitlements.csv",
        truth=truth,
        instances=len(sims),
        days=days,
        lines=written,
        polls=len(polls),
        failed_polls=sum(p.error is not None for p in polls),
        sessions=sum(len(sim.sessions) for sim in sims),
        refused_logins=sum(e.event_type == "LoginFailed" for sim in sims for e in sim.audit),
        restarts=sum(len(sim.restarts) for sim in sims),
        planted={sim.instance: sim.planted for sim in sims if sim.planted},
    )


def write_truth(path: Path, sims: Sequence[Simulation]) -> None:
    """Every true session as one JSON line (``.gz``/``.zst`` compressed by the name), by instance and start."""
    lines = [
        json.dumps(
            {
                "instance": sim.instance,
                "session_id": s.session_id,
                "user": s.user,
                "start": iso_ms(s.start),
                "end": iso_ms(s.end),
                "request_times": [iso_ms(t) for t in s.request_times],
                "device": s.device,
                "applications": s.applications,
                "absolute_expiration": None if s.absolute_expiration is None else iso_ms(s.absolute_expiration),
                "uncounted": s.uncounted,
            },
            ensure_ascii=False,
        )
        for sim in sorted(sims, key=lambda sim: sim.instance)
        for s in sim.sessions
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_lines(Path(path), lines)


def read_truth(path: Path) -> dict[str, list[TrueSession]]:
    """The true sessions a truth file holds, by instance."""
    out: dict[str, list[TrueSession]] = {}
    for line in read_bytes(Path(path)).decode("utf-8").splitlines():
        r = json.loads(line)
        out.setdefault(r["instance"], []).append(
            TrueSession(
                session_id=r["session_id"],
                user=r["user"],
                start=_instant(r["start"]),
                end=_instant(r["end"]),
                request_times=tuple(_instant(t) for t in r["request_times"]),
                device=r["device"],
                applications=r["applications"],
                absolute_expiration=None if r["absolute_expiration"] is None else _instant(r["absolute_expiration"]),
                uncounted=r["uncounted"],
            )
        )
    return out


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _to_ms(at: datetime | None) -> datetime | None:
    return None if at is None else at.replace(microsecond=at.microsecond // 1000 * 1000)
