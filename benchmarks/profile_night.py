"""Where one night's time goes: each statement's seconds, then cProfile's top functions.

    /work/venv/bin/python benchmarks/profile_night.py /tmp/nb/i2500-s5-np25/h60 \\
        /tmp/nb/i2500-s5-np25/data/logs/2026-10-30.jsonl /tmp/nb/i2500-s5-np25/data/entitlements.csv

HISTORY is a folder bench_nightly.py built (warehouse/ and logs/). The warehouse is copied
to a scratch folder, NEW_FILE is added to its logs and one `run_nightly` runs in this
process, every `queries/*.sql` statement timed. Run it on a quiet machine: it is one run.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import shutil
import tempfile
import time
from pathlib import Path

import auditor.queries

_run_query = auditor.queries.run_query
_spent: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0])


def _timed(con, name, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        return _run_query(con, name, *args, **kwargs)
    finally:
        _spent[name][0] += time.perf_counter() - start
        _spent[name][1] += 1


# before the modules that import run_query by name are loaded
auditor.queries.run_query = _timed

from auditor.nightly import run_nightly
from auditor.warehouse import Warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", type=Path)
    parser.add_argument("new_file", type=Path)
    parser.add_argument("entitlements", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-night-") as tmp:
        trial = Path(tmp)
        shutil.copytree(args.history / "warehouse", trial / "warehouse")
        (trial / "logs").mkdir()
        for f in [*(args.history / "logs").iterdir(), args.new_file]:
            os.link(f, trial / "logs" / f.name)
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        result = run_nightly(Warehouse.open(trial / "warehouse"), trial / "logs", entitlements=args.entitlements)
        profile.disable()
        total = time.perf_counter() - start
    record = result.record
    print(f"night {total:.2f} s (ingest {record.ingest_s:.2f}, audit {record.audit_s:.2f}); "
          f"statements {sum(s for s, _ in _spent.values()):.2f} s")
    for name, (seconds, calls) in sorted(_spent.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{seconds:8.2f} s {calls:4d}x  {name}")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
