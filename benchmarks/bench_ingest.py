"""Ingest throughput and peak memory at scale, on several input shapes, beside the plain alternative.

    /work/venv/bin/python benchmarks/bench_ingest.py                 # 1M and 10M, every shape
    /work/venv/bin/python benchmarks/bench_ingest.py --sizes 1000000 --shapes random

Inputs come from the project's generator (``auditor.generate``: one file per UTC
day, ``per-day``; ``csv`` is the same in CSV) and are kept in --workdir between
runs, with two shapes the generator does not make: ``one-file`` (every line in
one file, in time order) and ``random`` (the same lines shuffled). Each ingest
runs in a fresh child process into an empty warehouse; the figure is end to end
— read, parse, validate, de-duplicate, write, commit — and the peak RSS is the
child's own (VmHWM; not ru_maxrss, which carries the generator's peak into the child). Beside it, in the same run and on the same files,
the one statement a user would write by hand (``peer``): DuckDB's ``read_json``
(``read_csv``) → ``DISTINCT`` → ``ORDER BY instance, ts`` → Parquet partitioned
by date. It validates nothing, keeps no rejects and dedupes only within the run. Imports happen before the clock starts (pandas among
them: DuckDB imports it the first time it is handed an Arrow table, about
0.4 CPU-seconds once per process). CPU-s/1M is the child's user+system time
per million events, less sensitive to other load on the machine than events/s. The machine's load average is printed with the figures,
since other work on the machine skews them.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from benchline import PEAK_RSS, bench_line, load

CHILD = PEAK_RSS + textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from auditor.ingest import ingest
    from auditor.warehouse import Warehouse
    try:
        import pandas  # DuckDB imports it on the first Arrow table it is handed: a start-up cost, like the imports above
    except ImportError:
        pass
    wh = Warehouse.open(Path(sys.argv[1]), create=True)
    t = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    result = ingest(wh, [Path(sys.argv[2])])
    elapsed = time.perf_counter() - t
    done = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = (done.ru_utime - cpu.ru_utime) + (done.ru_stime - cpu.ru_stime)
    print(json.dumps({"seconds": elapsed, "read": result.read, "accepted": result.accepted,
                      "duplicates": result.duplicates, "rejected": result.rejected, "cpu_seconds": cpu_seconds,
                      "peak_rss_mb": peak_rss_mb()}))
    """
)
PEER = PEAK_RSS + textwrap.dedent(
    """
    import json, resource, sys, time
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    reader = "read_csv" if sys.argv[3] == "csv" else "read_json"
    t = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    con.execute(f"COPY (SELECT DISTINCT *, CAST(ts AS DATE) AS date FROM {reader}($glob) ORDER BY instance, ts) "
                "TO $out (FORMAT parquet, PARTITION_BY (date))", {"glob": sys.argv[2] + "/*", "out": sys.argv[1]})
    elapsed = time.perf_counter() - t
    done = resource.getrusage(resource.RUSAGE_SELF)
    rows = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": sys.argv[1] + "/*/*.parquet"}).fetchone()[0]
    print(json.dumps({"seconds": elapsed, "read": None, "accepted": rows, "duplicates": None, "rejected": None,
                      "cpu_seconds": (done.ru_utime - cpu.ru_utime) + (done.ru_stime - cpu.ru_stime),
                      "peak_rss_mb": peak_rss_mb()}))
    """
)
DAYS = 30
SEED = 7
SHAPES = ("per-day", "one-file", "random", "csv")


def _events_per_instance(workdir: Path, fmt: str) -> float:
    """Calibrate: the generator's events per instance over DAYS days."""
    from auditor.generate import generate

    probe = workdir / f"probe-{fmt}"
    result = generate(probe, seed=SEED, instances=40, days=DAYS, fmt=fmt, overwrite=True)
    shutil.rmtree(probe)
    return result.events / 40


def _generated(workdir: Path, fmt: str, size: int) -> tuple[Path, int]:
    from auditor.generate import generate

    out = workdir / f"{fmt}-{size}"
    marker = out / "events.json"
    if marker.is_file():
        return out / "logs", json.loads(marker.read_text())["events"]
    instances = max(1, round(size / _events_per_instance(workdir, fmt)))
    result = generate(out, seed=SEED, instances=instances, days=DAYS, fmt=fmt, overwrite=True)
    marker.write_text(json.dumps({"events": result.events, "instances": instances}))
    return out / "logs", result.events


def _inputs(workdir: Path, shape: str, size: int) -> tuple[Path, int]:
    """The folder of SHAPE's files for about SIZE events, and the number of events (kept between runs)."""
    if shape in ("per-day", "csv"):
        return _generated(workdir, "csv" if shape == "csv" else "jsonl", size)
    per_day, events = _generated(workdir, "jsonl", size)
    folder = workdir / f"{shape}-{size}"
    whole = folder / "all.jsonl"
    if not whole.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        lines = [line for path in sorted(per_day.iterdir()) for line in path.read_bytes().splitlines()]
        if shape == "random":
            random.Random(SEED).shuffle(lines)
        partial = folder / "all.jsonl.partial"
        partial.write_bytes(b"\n".join(lines) + b"\n")
        partial.rename(whole)
    return folder, events


def _run(code: str, *args: str) -> dict:
    child = subprocess.run([sys.executable, "-P", "-c", code, *args], check=False, capture_output=True, text=True)
    if child.returncode != 0:
        sys.exit(f"benchmark child failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated event counts (approximate)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, of {', '.join(SHAPES)}")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/auditor-bench-ingest"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is reported")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    print(f"{'shape':9} {'what':7} {'events':>11} {'input MB':>9} {'seconds':>8} {'events/s':>11} {'CPU-s/1M':>9} "
          f"{'peak RSS MB':>12} {'vs peer':>8}  load (1/5/15 min)")
    for size in (int(s) for s in args.sizes.split(",")):
        for shape in args.shapes.split(","):
            logs, events = _inputs(args.workdir, shape, size)
            input_mb = sum(p.stat().st_size for p in logs.iterdir()) / 1e6
            fmt = "csv" if shape == "csv" else "jsonl"
            peer_seconds = None
            for what in ("peer", "auditor"):
                best = None
                for _ in range(args.repeat):
                    out = args.workdir / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    if what == "peer":
                        figures = _run(PEER, str(out), str(logs), fmt)
                    else:
                        figures = _run(CHILD, str(out), str(logs))
                        assert figures["read"] == events == figures["accepted"] + figures["duplicates"] + figures["rejected"]
                    if best is None or figures["seconds"] < best["seconds"]:
                        best = figures
                shutil.rmtree(args.workdir / "out", ignore_errors=True)
                assert best is not None
                if what == "peer":
                    peer_seconds = best["seconds"]
                ratio = f"{best['seconds'] / peer_seconds:.2f}x" if peer_seconds else ""
                at = load()
                print(
                    f"{shape:9} {what:7} {events:>11,} {input_mb:>9.0f} {best['seconds']:>8.2f} {events / best['seconds']:>11,.0f} "
                    f"{best['cpu_seconds'] / events * 1e6:>9.2f} {best['peak_rss_mb']:>12.0f} {ratio:>8}  {at}",
                    flush=True,
                )
                if what == "auditor" and peer_seconds:
                    # for benchmarks/run_all.py: ours against the peer (target 1.2x), and events/s against 1M
                    bench_line("ingest", f"ingest {shape} {events:,} events: seconds vs peer (target <= 1.2x)",
                               best["seconds"], peer_seconds)
                    bench_line("ingest", f"ingest {shape} {events:,} events: events/s (target >= 1M)",
                               events / best["seconds"], 1_000_000, higher_is_better=True)


if __name__ == "__main__":
    main()
