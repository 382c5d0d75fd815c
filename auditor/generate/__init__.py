"""A deterministic generator of connection logs and entitlements.

``generate(out_dir, seed=..., instances=..., days=...)`` writes
``OUT/logs/YYYY-MM-DD.jsonl`` (one file per UTC day, so that a nightly batch can
take them day by day) and ``OUT/entitlements.csv``. The same arguments always
give byte-identical files. The data obey the input contract and behave like a
small-business portfolio: office hours in each instance's time zone, lunch
dips and quiet weekends, sessions that log out and sessions that just stop,
re-logins that reuse a session id, client-credentials services that run for
hours, external applications holding several seats, a portal's virtual user,
restarts, and full instances whose server refuses logins.

Polled instances (``--format snapshots``) come from :mod:`auditor.generate.polling`
(their true sessions and what polls saw of them) and :mod:`auditor.generate.snapfiles`
(the files). The committed ``sample_data/`` is written by :func:`auditor.generate.sample.build_sample`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from auditor.errors import UsageError
from auditor.generate import activity, events, fleet, logfiles, plants
from auditor.generate.fleet import InstanceSpec

DEFAULT_START = date(2026, 10, 1)


@dataclass
class GenerateResult:
    out_dir: Path
    logs: list[Path]
    entitlements: Path
    instances: int
    days: int
    #: Lines written, all files together.
    events: int
    #: Lines written per event kind (login, request, logout, login_failed, restart).
    events_by_kind: dict[str, int] = field(default_factory=dict)
    #: Parts admitted (a login and its requests under one session id) and refused.
    sessions: int = 0
    refused_logins: int = 0
    #: What was planted where (``auditor.generate.plants``): instance -> names planted at least once.
    planted: dict[str, tuple[str, ...]] = field(default_factory=dict)


def generate(
    out_dir: Path,
    *,
    seed: int,
    instances: int,
    days: int,
    start: date = DEFAULT_START,
    fmt: str = "jsonl",
    compression: str | None = None,
    files_per_day: int = 1,
    overwrite: bool = False,
) -> GenerateResult:
    """Write a random fleet's logs and entitlements under OUT_DIR (see the module doc).

    OUT_DIR/logs must be empty or missing unless OVERWRITE, which first deletes
    the log files and entitlements an earlier run wrote there.
    """
    _check(instances=instances, days=days, fmt=fmt, compression=compression, files_per_day=files_per_day)
    prepare_out_dir(Path(out_dir), overwrite=overwrite)
    rng = np.random.default_rng(seed)
    specs = fleet.random_fleet(rng, instances, start, days)
    return generate_fleet(
        out_dir, specs, rng=rng, start=start, days=days, formats=[(fmt, compression)] * days, files_per_day=files_per_day
    )


def generate_fleet(
    out_dir: Path,
    specs: Sequence[InstanceSpec],
    *,
    rng: np.random.Generator,
    start: date,
    days: int,
    formats: list[tuple[str, str | None]],
    files_per_day: int = 1,
    plant_avoid: frozenset[date] = frozenset(),
) -> GenerateResult:
    """Write the logs and entitlements of the fleet SPECS; ``formats[d]`` is day d's (format, compression).

    Nothing is planted on the local days in PLANT_AVOID.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = activity.Calendar.build(specs, start, days)
    dims = activity.build_dimensions(specs, rng)
    parts = activity.plan_parts(specs, cal, dims, rng)
    tl = events.timeline(parts, rng)
    refused = events.refusals(specs, cal, parts, tl)
    r_inst, r_ts = events.restarts(specs, cal, rng)
    ev = events.explode(parts, tl, refused, r_inst, r_ts, cal)
    in_window = np.unique(ev.part[ev.part >= 0])
    planted = plants.plant_logs(specs, cal, dims, parts, tl, refused, ev, r_inst, r_ts, rng, plant_avoid)
    ev = planted.events
    table = logfiles.events_table(ev, planted.parts, planted.dims, [s.name for s in specs])
    written = logfiles.write_logs(table, ev, out_dir / "logs", start, days, formats, files_per_day)
    entitlements = out_dir / "entitlements.csv"
    fleet.write_entitlements(entitlements, specs)
    kinds = np.bincount(ev.kind, minlength=len(events.EVENT_KINDS))
    return GenerateResult(
        out_dir=out_dir,
        logs=[f.path for f in written],
        entitlements=entitlements,
        instances=len(specs),
        days=days,
        events=len(ev.ts),
        events_by_kind={k: int(n) for k, n in zip(events.EVENT_KINDS, kinds)},
        sessions=int((~refused[in_window]).sum()),
        refused_logins=int(refused[in_window].sum()),
        planted=planted.planted,
    )


def prepare_out_dir(out_dir: Path, *, overwrite: bool, sub: str = "logs", names: re.Pattern[str] = logfiles.LOG_NAME) -> None:
    """Make sure nothing from an earlier run mixes with the new files in OUT_DIR/SUB (named like NAMES)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file; name a directory to write into")
    folder = out_dir / sub
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; name another output directory")
    old = sorted(folder.iterdir()) if folder.is_dir() else []
    if not old:
        return
    if not overwrite:
        raise UsageError(f"{folder} already holds files; name a new directory, or pass --overwrite to replace them")
    strangers = [p.name for p in old if not (p.is_file() and names.fullmatch(p.name))]
    if strangers:
        raise UsageError(f"{folder} holds files the generator did not write ({strangers[0]}); name another directory")
    for p in old:
        p.unlink()
    (out_dir / "entitlements.csv").unlink(missing_ok=True)


def _check(*, instances: int, days: int, fmt: str, compression: str | None, files_per_day: int) -> None:
    check_size(instances=instances, days=days, compression=compression, files_per_day=files_per_day)
    if fmt not in logfiles.FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(logfiles.FORMATS)}")


def check_size(*, instances: int, days: int, compression: str | None, files_per_day: int) -> None:
    """The checks every generated data set passes: logs and snapshots alike."""
    if instances < 1:
        raise UsageError(f"--instances must be at least 1, not {instances}")
    if days < 1:
        raise UsageError(f"--days must be at least 1, not {days}")
    if compression not in logfiles.COMPRESSIONS:
        raise UsageError(f"unknown compression {compression!r}; use none, gz or zst")
    if files_per_day < 1:
        raise UsageError(f"--files-per-day must be at least 1, not {files_per_day}")
