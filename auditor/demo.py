"""``auditor demo``: the nightly flow over the shipped sample data, night by night.

The sample's day files (a connection log, and the polled instance's snapshot files)
arrive one day per night in ``DIR/incoming/``, and each
night runs ``auditor.nightly.run_nightly`` on it: ingest what is new, re-audit
what it changes. The last night also renders the reports into ``DIR/reports``
(rendering them every night would redraw the month's charts 31 times for
nothing a reader of the demo sees). The warehouse is ``DIR/warehouse``. A
directory the demo created carries a marker file, so that a re-run may
rebuild it from scratch; a directory without the marker is never touched.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from auditor.errors import AuditorError, UsageError
from auditor.nightly import NightlyResult, run_nightly
from auditor.warehouse import Warehouse

MARKER = ".auditor-demo"
_PACKAGE_DIR = Path(__file__).resolve().parent
# What the demo writes into DIR, and so what a re-run may delete.
_OWN = ("warehouse", "incoming", "reports")


@dataclass
class DemoResult:
    out_dir: Path
    warehouse: Path
    nights: list[NightlyResult] = field(default_factory=list)
    reports: Path | None = None
    #: The portfolio overview, ``reports/index.html``.
    index: Path | None = None


def sample_data_dir() -> Path:
    """The shipped sample data: inside the installed package (a wheel), or at the checkout's top."""
    for candidate in (_PACKAGE_DIR / "sample_data", _PACKAGE_DIR.parent / "sample_data"):
        if (candidate / "logs").is_dir():
            return candidate
    raise AuditorError("auditor's sample_data/ folder is missing from the installation; reinstall auditor")


def prepare(out_dir: Path) -> None:
    """Make OUT_DIR ready: create and mark it, or clear what an earlier demo left there."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file; name a directory for the demo's output with --out")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise UsageError(
            f"{out_dir} is not empty and was not created by `auditor demo`; name a new directory with --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in _OWN:
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    (out_dir / MARKER).write_text(
        "Written by `auditor demo`: a re-run deletes and rebuilds warehouse/, incoming/ and reports/ here.\n",
        encoding="utf-8",
    )


def nightly_files(sample: Path) -> list[tuple[str, list[Path]]]:
    """Per UTC day of the sample (its files' names start with the date), the files that arrive that night:
    the day's connection log and the polled instance's snapshot files."""
    by_day: dict[str, list[Path]] = {}
    for folder in ("logs", "snapshots"):
        for path in sorted((sample / folder).iterdir()) if (sample / folder).is_dir() else []:
            if path.is_file() and not path.name.startswith("README"):
                by_day.setdefault(path.name[:10], []).append(path)
    return sorted(by_day.items())


def run_demo(out_dir: Path, *, say: Callable[[str], None] | None = None) -> DemoResult:
    """Run the nightly flow over the sample data, one day file per night, into OUT_DIR."""
    tell = say or (lambda _message: None)
    sample = sample_data_dir()
    out_dir = Path(out_dir)
    prepare(out_dir)
    warehouse = Warehouse.open(out_dir / "warehouse", create=True)
    incoming = out_dir / "incoming"
    incoming.mkdir()
    nights = nightly_files(sample)
    reports = (out_dir / "reports").absolute()
    result = DemoResult(out_dir=out_dir, warehouse=warehouse.root)
    for n, (day, files) in enumerate(nights, 1):
        for path in files:
            shutil.copyfile(path, incoming / path.name)
        last = n == len(nights)
        night = run_nightly(
            warehouse,
            incoming,
            entitlements=sample / "entitlements.csv",
            plans=sample / "plans.toml",
            reports=reports if last else None,
        )
        record = night.record
        tell(
            f"night {n}/{len(nights)}: {day}: {record.events_accepted} lines accepted, "
            f"{record.events_rejected} rejected, {record.events_duplicates} duplicates, "
            f"{record.new_breaches} new breaches"
        )
        result.nights.append(night)
    result.reports = reports
    result.index = reports / "index.html"
    if not result.index.is_file():
        raise AuditorError(f"the last night rendered no overview at {result.index}")
    return result
