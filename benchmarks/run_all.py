"""Every benchmark in one command: each measure, its reference and the ratio, with the commit and the load.

    /work/venv/bin/python benchmarks/run_all.py --quick     # minutes: small inputs
    /work/venv/bin/python benchmarks/run_all.py --full      # the issues' sizes (long)
    /work/venv/bin/python benchmarks/run_all.py --quick --only reports

Runs each bench_*.py below as a child process (this interpreter, so PYTHONPATH
picks the tree) with the arguments of its mode, shows its output as it comes,
and collects the lines it prints as ``BENCH {json}``: ``measure``, ``value``,
``reference`` and ``higher_is_better`` (the target's direction), and optionally
``commit`` and ``load``. A script that fails or prints no BENCH line is listed
as such; the others still run. The exit status is 1 when any script failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchline import PREFIX, commit, load, parse_bench_line

HERE = Path(__file__).resolve().parent

#: Per benchmark: its script and its arguments for --quick and for --full.
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "ingest": ("bench_ingest.py", ["--sizes", "1000000"], []),
    "ingest_files": ("bench_ingest_files.py", ["--counts", "5000"], []),
    "snapshot_ingest": ("bench_snapshot_ingest.py", ["--instances", "100"], []),
    "audit": ("bench_audit.py", ["--instances", "500"], []),
    "audit_polls": ("bench_audit_polls.py", ["--instances", "200", "--repeat", "1"], []),
    "nightly": ("bench_nightly.py", ["--instances", "200", "--repeat", "1"], []),
    # issue 13 target 3: 1% of the fleet never pauses
    "nightly_never_pausing": ("bench_nightly.py", ["--instances", "200", "--never-pausing", "2", "--repeat", "1"],
                              ["--never-pausing", "25", "--check"]),
    "reports": ("bench_reports.py", ["--instances", "200", "--jobs", "2"], ["--instances", "200", "1000", "--jobs", "1", "2"]),
    "collect": ("bench_collect.py", ["--instances", "200", "--cycles", "3"], []),
}


def run(name: str, script: str, args: list[str]) -> tuple[int, list[dict]]:
    """Run one benchmark, echoing its output; its exit status and BENCH records."""
    print(f"\n=== {name}: {script} {' '.join(args)} (load {load()})", flush=True)
    records = []
    proc = subprocess.Popen([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        if line.startswith(PREFIX):
            try:
                record = parse_bench_line(line)
            except ValueError as exc:
                print(f"run_all: a BENCH line of {script} is not understood ({exc}): {line.strip()}", file=sys.stderr)
                continue
            records.append({**record, "bench": name})
    return proc.wait(), records


def ratio(record: dict) -> float | None:
    """How far from the reference, > 1 meaning worse: value / reference, or its inverse when higher is better."""
    value, reference = float(record["value"]), float(record["reference"])
    if record.get("higher_is_better"):
        return reference / value if value else None
    return value / reference if reference else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="small inputs: minutes")
    mode.add_argument("--full", action="store_true", help="the issues' sizes")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="these benchmarks only")
    args = ap.parse_args()

    started = time.perf_counter()
    head = f"commit {commit()}, {'quick' if args.quick else 'full'}, load at start {load()}"
    print(head, flush=True)
    rows, missing = [], []
    for name in args.only or BENCHMARKS:
        script, quick, full = BENCHMARKS[name]
        status, records = run(name, script, quick if args.quick else full)
        if status != 0:
            missing.append(f"{name}: exit status {status}")
        elif not records:
            missing.append(f"{name}: no BENCH line")
        rows += records

    print(f"\n{head}; load at end {load()}; {time.perf_counter() - started:.0f} s")
    print("| bench | measure | value | reference | ratio (>1: short of it) | commit | load |")
    print("|---|---|---:|---:|---:|---|---|")
    for r in rows:
        q = ratio(r)
        print(f"| {r['bench']} | {r['measure']} | {float(r['value']):g} | {float(r['reference']):g} | "
              f"{'–' if q is None else f'{q:.2f}'} | {r.get('commit', '')} | {r.get('load', '')} |")
    for line in missing:
        print(f"not measured: {line}")
    sys.exit(1 if any("exit status" in m for m in missing) else 0)


if __name__ == "__main__":
    main()
