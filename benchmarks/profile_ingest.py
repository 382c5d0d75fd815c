"""Where one ingest's time goes: each thread's spans of reading, staging, merging and writing.

    /work/venv/bin/python benchmarks/profile_ingest.py /tmp/auditor-bench-ingest/random-1000000/all.jsonl

Ingests PATHS into an empty warehouse in a scratch folder, in this process, and prints every span
(thread, what, start -> end in seconds from the start, and the thread's CPU seconds in it), then per
kind of span its count, wall and CPU seconds, and the peak RSS split into anonymous and file-backed
memory (sampled every 50 ms from /proc/self/status). The gaps between a thread's spans are where a
core idles: that is how 373f293 (staging began only when the reader's second chunk came) and
2797434 (mapped staged files paged in during the merge) were found. Run it on a quiet machine: it is
one run.
"""

from __future__ import annotations

import argparse
import collections
import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import auditor.ingest.pipeline as pipeline
import auditor.ingest.reader as reader
import auditor.ingest.staging as staging
from auditor.warehouse import Warehouse

Span = tuple[str, str, float, float, float]  # thread, what, start, end, thread CPU seconds
_spans: list[Span] = []
_t0 = [0.0]


def _record(what: str, start: float, cpu: float) -> None:
    _spans.append((threading.current_thread().name, what, start - _t0[0], time.perf_counter() - _t0[0],
                   time.thread_time() - cpu))


def _timed(owner: Any, name: str, what: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            _record(what, start, cpu)

    setattr(owner, name, timed)


def _instrument() -> None:
    _timed(staging.StagingSession, "stage", "stage")
    _timed(staging.DayMerger, "merge_day", "merge_day")
    _timed(staging.DayMerger, "write_day", "write_day")
    for name in ("_stage_files", "_merge", "_merge_snapshots", "_write_rejects", "_write_log"):
        _timed(pipeline, name, name.lstrip("_"))
    split = reader.LineReader._split

    def timed_split(self: reader.LineReader, content: Any) -> Iterator[Any]:
        batches = split(self, content)
        while True:
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                batch = next(batches)
            except StopIteration:
                return
            _record("read", start, cpu)
            yield batch

    reader.LineReader._split = timed_split  # type: ignore[method-assign]


def _memory(samples: list[tuple[int, int]], stop: threading.Event) -> None:
    while not stop.is_set():
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        samples.append((int(fields["RssAnon"].split()[0]) << 10, int(fields["RssFile"].split()[0]) << 10))
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="input files or folders, as `auditor ingest` takes them")
    args = parser.parse_args()
    _instrument()
    scratch = Path(tempfile.mkdtemp(prefix="profile-ingest-"))
    samples: list[tuple[int, int]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_memory, args=(samples, stop), daemon=True)
    try:
        warehouse = Warehouse.open(scratch / "warehouse", create=True)
        sampler.start()
        _t0[0], cpu = time.perf_counter(), time.process_time()
        result = pipeline.ingest(warehouse, args.paths)
        wall, cpu = time.perf_counter() - _t0[0], time.process_time() - cpu
    finally:
        stop.set()
        shutil.rmtree(scratch, ignore_errors=True)
    for thread, what, start, end, spent in sorted(_spans, key=lambda s: s[2]):
        print(f"{thread:22s} {what:15s} {start:7.3f} -> {end:7.3f}  ({end - start:.3f} s, CPU {spent:.3f} s)")
    print(f"\n{result.read:,} lines read, {result.accepted:,} accepted: {wall:.2f} s, CPU {cpu:.2f} s")
    totals: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for _, what, start, end, spent in _spans:
        totals[what][0] += 1
        totals[what][1] += end - start
        totals[what][2] += spent
    for what, (count, seconds, spent) in totals.items():
        print(f"  {what:15s} {int(count):5d} spans  wall {seconds:7.3f} s  CPU {spent:7.3f} s")
    if samples:
        anon, mapped = max(samples, key=sum)
        print(f"peak RSS {(anon + mapped) >> 20} MB: anonymous {anon >> 20} MB, file-backed {mapped >> 20} MB")


if __name__ == "__main__":
    main()
