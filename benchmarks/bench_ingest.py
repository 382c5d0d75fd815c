"""Ingest throughput and peak memory at scale: JSONL and CSV, 1M and 10M events.

    /tmp/venv/bin/python benchmarks/bench_ingest.py                 # 1M and 10M, JSONL and CSV
    /tmp/venv/bin/python benchmarks/bench_ingest.py --sizes 1000000 --formats jsonl

Inputs come from the project's generator (``auditor.generate``: one file per UTC
day) and are kept in --workdir between runs. Each ingest runs in a fresh child
process into an empty warehouse; the figure is end to end — read, parse,
validate, de-duplicate, write, commit — and the peak RSS is the child's
(getrusage ru_maxrss). Imports happen before the clock starts (pandas among
them: DuckDB imports it the first time it is handed an Arrow table, about
0.4 CPU-seconds once per process). CPU-s/1M is the child's user+system time
per million events, less sensitive to other load on the machine than events/s. The machine's load average is printed with the figures,
since other work on the machine skews them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from auditor.ingest import ingest
    from auditor.warehouse import Warehouse
    import pandas  # DuckDB imports it on the first Arrow table it is handed: a fixed start-up cost, like the imports above
    wh = Warehouse.open(Path(sys.argv[1]), create=True)
    t = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    result = ingest(wh, [Path(sys.argv[2])])
    elapsed = time.perf_counter() - t
    done = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = (done.ru_utime - cpu.ru_utime) + (done.ru_stime - cpu.ru_stime)
    print(json.dumps({"seconds": elapsed, "read": result.read, "accepted": result.accepted,
                      "duplicates": result.duplicates, "rejected": result.rejected, "cpu_seconds": cpu_seconds,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)
DAYS = 30
SEED = 7


def _events_per_instance(workdir: Path, fmt: str) -> float:
    """Calibrate: the generator's events per instance over DAYS days."""
    from auditor.generate import generate

    probe = workdir / f"probe-{fmt}"
    result = generate(probe, seed=SEED, instances=40, days=DAYS, fmt=fmt, overwrite=True)
    shutil.rmtree(probe)
    return result.events / 40


def _inputs(workdir: Path, fmt: str, size: int) -> tuple[Path, int]:
    from auditor.generate import generate

    out = workdir / f"{fmt}-{size}"
    marker = out / "events.json"
    if marker.is_file():
        return out / "logs", json.loads(marker.read_text())["events"]
    instances = max(1, round(size / _events_per_instance(workdir, fmt)))
    result = generate(out, seed=SEED, instances=instances, days=DAYS, fmt=fmt, overwrite=True)
    marker.write_text(json.dumps({"events": result.events, "instances": instances}))
    return out / "logs", result.events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated event counts (approximate)")
    parser.add_argument("--formats", default="jsonl,csv")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/auditor-bench-ingest"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is reported")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    print(f"{'format':6} {'events':>11} {'input MB':>9} {'seconds':>8} {'events/s':>11} {'CPU-s/1M':>9} {'peak RSS MB':>12}  load (1/5/15 min)")
    for size in (int(s) for s in args.sizes.split(",")):
        for fmt in args.formats.split(","):
            logs, events = _inputs(args.workdir, fmt, size)
            input_mb = sum(p.stat().st_size for p in logs.iterdir()) / 1e6
            best = None
            for _ in range(args.repeat):
                warehouse = args.workdir / "warehouse"
                shutil.rmtree(warehouse, ignore_errors=True)
                child = subprocess.run([sys.executable, "-c", CHILD, str(warehouse), str(logs)], capture_output=True, text=True)
                if child.returncode != 0:
                    sys.exit(f"ingest failed:\n{child.stderr}")
                figures = json.loads(child.stdout.strip().splitlines()[-1])
                assert figures["read"] == events == figures["accepted"] + figures["duplicates"] + figures["rejected"]
                if best is None or figures["seconds"] < best["seconds"]:
                    best = figures
            shutil.rmtree(args.workdir / "warehouse", ignore_errors=True)
            assert best is not None
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"{fmt:6} {events:>11,} {input_mb:>9.0f} {best['seconds']:>8.2f} {events / best['seconds']:>11,.0f} "
                f"{best['cpu_seconds'] / events * 1e6:>9.2f} {best['peak_rss_mb']:>12.0f}  {load}",
                flush=True,
            )


if __name__ == "__main__":
    main()
