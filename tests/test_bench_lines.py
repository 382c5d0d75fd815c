"""The BENCH line every benchmark prints and benchmarks/run_all.py reads (no benchmark is run here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import benchline  # noqa: E402
import run_all  # noqa: E402


def test_a_printed_line_is_read_back_with_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    benchline.bench_line("audit", "audit s vs floor s (<= 2x)", 3.0, 1.5, rss_gb=0.3)
    line = capsys.readouterr().out
    assert line.startswith(benchline.PREFIX) and line.count("\n") == 1, line
    record = benchline.parse_bench_line(line)
    assert record["bench"] == "audit" and record["measure"] == "audit s vs floor s (<= 2x)", record
    assert (record["value"], record["reference"], record["higher_is_better"], record["rss_gb"]) == (3.0, 1.5, False, 0.3)
    assert record["commit"] and record["load"], record
    assert run_all.ratio(record) == 2.0


def test_the_ratio_is_above_one_when_short_of_the_reference_either_way() -> None:
    rate = benchline.bench_record("reports", "reports/s", 5.0, 20.0, higher_is_better=True)
    assert run_all.ratio(rate) == 4.0
    assert run_all.ratio({**rate, "value": 0}) is None


@pytest.mark.parametrize("line", [
    "bench {}",
    "BENCH not json",
    "BENCH " + json.dumps({"measure": "m", "value": 1.0}),
    "BENCH " + json.dumps({"measure": "m", "value": "fast", "reference": 1.0}),
    "BENCH " + json.dumps([1, 2]),
])
def test_a_line_run_all_cannot_use_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        benchline.parse_bench_line(line)


def test_a_measured_command_reports_its_own_peak_memory_not_the_benchmarks() -> None:
    # Linux carries a parent's peak RSS into the children it starts (fork, then exec): a
    # benchmark that generated its data in-process would see the generator's peak as the
    # command's. Here the caller's peak is raised by 600 MB; the command itself holds 100 MB.
    ballast = bytearray(600 * 2**20)
    ballast[:: 4096] = b"x" * len(range(0, len(ballast), 4096))  # touch every page
    del ballast
    run = benchline.run_measured([sys.executable, "-c", "x = bytearray(100 * 2**20); x[::4096] = b'y' * len(x[::4096])"])
    assert run.exit == 0 and run.cpu_s > 0 and run.wall_s > 0
    assert 100 <= run.peak_rss_mb < 400, run
    failed = benchline.run_measured([sys.executable, "-c", "raise SystemExit(3)"])
    assert failed.exit == 3


@pytest.mark.parametrize("script", sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py")))
def test_every_benchmark_script_imports(script: str) -> None:
    # run_all runs each as a child and a broken import shows only there, after minutes of the
    # others: importing them here (no benchmark runs; each runs only as __main__) catches it
    __import__(script)
