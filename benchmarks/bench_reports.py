"""How fast `auditor report` writes a fleet's month: HTML, three PNG charts and an .eml per instance.

Generates fleets (default 200 and 1,000 instances x October 2026) with
`auditor.generate`, ingests and audits each once (kept under --work and reused),
then times `auditor report --period 2026-10 --eml` for each fleet and each
--jobs (a fresh output folder per run; best of --repeat). Prints per run the
reports per second, wall and CPU seconds (the command and its workers), the
peak RSS of its largest process, and the load average; and one `BENCH {...}`
JSON line per run for benchmarks/run_all.py. Target (issue 13): 20 reports/s or
more on 2 cores, peak RSS flat in the fleet's size.

    /work/venv/bin/python benchmarks/bench_reports.py                          # 200 and 1,000 instances, --jobs 1 and 2
    /work/venv/bin/python benchmarks/bench_reports.py --instances 100 --jobs 2 # a quick look
    PYTHONPATH=/work/main /work/venv/bin/python benchmarks/bench_reports.py    # another tree's auditor (before/after)

The command is `python -P -m auditor` of this interpreter, so PYTHONPATH picks the
tree (-P: not the current directory, which `-m` would put first). A tree without `report --jobs` (before issue 13) gets the same number of
processes through $AUDITOR_WORKERS. Figures on a busy machine mean little: look
at the load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchline import bench_line, commit, load, run_measured

HERE = Path(__file__).resolve().parent
START = date(2026, 10, 1)
DAYS = 31
PERIOD = "2026-10"


def auditor(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-P", "-m", "auditor", *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"auditor {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def prepare(work: Path, instances: int, seed: int) -> Path:
    """An audited warehouse of INSTANCES generated instances over October 2026 (reused when unchanged)."""
    from auditor.generate import generate

    wh = work / "warehouse"
    wanted = {"instances": instances, "seed": seed, "days": DAYS, "start": START.isoformat()}
    marker = work / "prepared.json"
    if marker.is_file() and json.loads(marker.read_text()) == wanted and wh.is_dir():
        return wh
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t = time.perf_counter()
    result = generate(work / "data", seed=seed, instances=instances, days=DAYS, start=START)
    auditor("ingest", "-q", "-w", wh, work / "data" / "logs")
    auditor("audit", "-q", "-w", wh, "--entitlements", work / "data" / "entitlements.csv")
    print(f"prepared {instances:,} instances ({result.events:,} events) in {time.perf_counter() - t:.1f} s", flush=True)
    marker.write_text(json.dumps(wanted))
    shutil.rmtree(work / "data")
    return wh


def has_jobs_option() -> bool:
    return "--jobs" in auditor("report", "--help").stdout


def timed_report(wh: Path, out: Path, jobs: int, jobs_option: bool) -> dict[str, float]:
    """One `auditor report` run: wall and CPU seconds (its workers included), peak RSS of its largest process."""
    shutil.rmtree(out, ignore_errors=True)
    args = [sys.executable, "-P", "-m", "auditor", "report", "-q", "-w", str(wh), "-o", str(out), "--period", PERIOD, "--eml"]
    if jobs_option:
        args += ["--jobs", str(jobs)]
    env = {**os.environ, "AUDITOR_WORKERS": str(jobs)}
    run = run_measured(args, env=env)
    if run.exit != 0:
        sys.exit(f"{' '.join(args)} failed ({run.exit})")
    reports = sum(1 for _ in out.glob(f"*/{PERIOD}.html"))
    shutil.rmtree(out, ignore_errors=True)
    return {"reports": reports, "wall_s": run.wall_s, "cpu_s": run.cpu_s, "peak_rss_mb": run.peak_rss_mb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1, help="runs per fleet and --jobs; the fastest is kept")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--work", type=Path, default=HERE / "work" / "reports")
    args = ap.parse_args()

    import auditor as package

    jobs_option = has_jobs_option()
    tree = Path(package.__file__).parent
    print(f"auditor from {tree} at {commit()} (report --jobs: {'yes' if jobs_option else 'no, $AUDITOR_WORKERS'})", flush=True)
    for instances in args.instances:
        wh = prepare(args.work / f"i{instances}-s{args.seed}", instances, args.seed)
        for jobs in args.jobs:
            before = load()
            runs = [timed_report(wh, args.work / "out", jobs, jobs_option) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["wall_s"])
            rate = best["reports"] / best["wall_s"]
            print(
                f"{instances:>6,} instances --jobs {jobs}: {best['reports']:,} reports in {best['wall_s']:.1f} s = "
                f"{rate:.1f} reports/s | CPU {best['cpu_s']:.1f} s ({best['cpu_s'] / best['reports'] * 1000:.0f} ms/report) | "
                f"peak RSS {best['peak_rss_mb']:.0f} MB | load {before} -> {load()}",
                flush=True,
            )
            bench_line("reports", f"reports/s, {instances} instances, --jobs {jobs} (target >= 20)", rate, 20.0,
                       higher_is_better=True, **{k: round(v, 2) for k, v in best.items()})


if __name__ == "__main__":
    main()
