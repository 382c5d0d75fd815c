"""What the benchmark scripts share: the load average, the commit measured, and the BENCH line.

Each script prints one ``BENCH {json}`` line per measure with `bench_line`; `run_all.py`
collects them into one table. ``reference`` is the figure the target is written against
(the peer, the floor, the issue's rate), so that value / reference is the ratio the
target speaks of; the target itself goes in the measure's text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

PREFIX = "BENCH "

#: Python code for a measured child process: peak_rss_mb() is its own peak resident memory.
#: Not ru_maxrss: Linux carries the parent's peak into a child over fork and exec, so a child
#: of a benchmark that generated gigabytes of data in-process would report the generator's peak.
PEAK_RSS = textwrap.dedent(
    """
    def peak_rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    """
)
#: Runs a command and writes its wall and CPU seconds and peak RSS (its workers' included) as JSON.
#: A fresh, small process between the benchmark and the command, for the reason above.
_MEASURE = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    t = time.perf_counter()
    proc = subprocess.Popen(sys.argv[2:])
    _, status, usage = os.wait4(proc.pid, 0)
    with open(sys.argv[1], "w") as out:
        json.dump({"exit": os.waitstatus_to_exitcode(status), "wall_s": time.perf_counter() - t,
                   "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}, out)
    """
)


@dataclass(frozen=True)
class Measured:
    exit: int
    wall_s: float
    #: User and system seconds of the command and every process it waited for.
    cpu_s: float
    #: The largest of those processes' peak resident memory.
    peak_rss_mb: float


def run_measured(args: list[str], **popen: object) -> Measured:
    """Run ARGS (stdout, stderr, env, ... as POPEN says) and measure it, whatever this process holds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as figures:
        subprocess.run([sys.executable, "-P", "-c", _MEASURE, figures.name, *args], check=False, **popen)  # type: ignore[call-overload]
        return Measured(**json.loads(Path(figures.name).read_text()))


def load() -> str:
    """`uptime`'s load averages (1, 5, 15 min)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def commit() -> str:
    """The short commit of the auditor tree imported, "+changes" when it has uncommitted changes."""
    import auditor

    tree = Path(auditor.__file__).parent
    git = ["git", "-C", str(tree)]
    out = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], check=False, capture_output=True,
                           text=True)
    return (out.stdout.strip() or "?") + ("+changes" if dirty.stdout.strip() else "")


def bench_record(bench: str, measure: str, value: float, reference: float, *, higher_is_better: bool = False,
                 **extra: object) -> dict:
    """One measure as run_all.py reads it; EXTRA (figures beside the measure) is kept in the record."""
    return {"bench": bench, "measure": measure, "value": round(value, 4), "reference": round(reference, 4),
            "higher_is_better": higher_is_better, "commit": commit(), "load": load(), **extra}


def bench_line(bench: str, measure: str, value: float, reference: float, *, higher_is_better: bool = False,
               **extra: object) -> None:
    """Print one measure for run_all.py: ``BENCH {json}`` on stdout."""
    record = bench_record(bench, measure, value, reference, higher_is_better=higher_is_better, **extra)
    print(PREFIX + json.dumps(record), flush=True)


def parse_bench_line(line: str) -> dict:
    """The record of a ``BENCH {json}`` line; ValueError when it is not one run_all.py can use."""
    if not line.startswith(PREFIX):
        raise ValueError("no BENCH prefix")
    try:
        record = json.loads(line[len(PREFIX):])
        float(record["value"]), float(record["reference"]), str(record["measure"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing or wrong field: {exc}") from exc
    return record
