"""Render the reports whose HTML is kept in tests/golden/, and (run as a script) rewrite them.

    python tests/regen_golden.py            # rewrite every golden file
    pytest tests/test_report_golden.py      # compare

Review the diff before committing regenerated files: it is the change a customer will see.
Two sets: ``fixture`` from the hand-made tables of report_builder.standard_data, and
``sample`` from sample_data/ through the real pipeline (ingest, audit, report).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
SAMPLE_DATA = HERE.parent / "sample_data"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from auditor.report import render_reports  # noqa: E402
from report_builder import build, standard_data  # noqa: E402


def _html_files(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


def render_fixture(work: Path) -> dict[str, str]:
    render_reports(build(work / "wh", standard_data()), work / "out", period="2026-10")
    return _html_files(work / "out")


def render_sample(work: Path) -> dict[str, str]:
    """sample_data/ (its logs and the polled instance's snapshot files) through ingest, audit (with its plan
    catalogue) and report, for its default period."""
    from auditor.audit import run_audit
    from auditor.ingest import ingest
    from auditor.warehouse import Warehouse

    wh = Warehouse.open(work / "wh", create=True)
    ingest(wh, [SAMPLE_DATA / "logs", SAMPLE_DATA / "snapshots"])
    run_audit(wh, entitlements=SAMPLE_DATA / "entitlements.csv", plans=SAMPLE_DATA / "plans.toml")
    render_reports(wh, work / "out", plans=SAMPLE_DATA / "plans.toml")
    return _html_files(work / "out")


GOLDEN_SETS = {"fixture": render_fixture, "sample": render_sample}


def main() -> None:
    for name, render in GOLDEN_SETS.items():
        with tempfile.TemporaryDirectory() as tmp:
            files = render(Path(tmp))
        folder = GOLDEN / name
        for old in folder.rglob("*.html") if folder.exists() else []:
            old.unlink()
        for rel, text in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"{folder}: {len(files)} files")


if __name__ == "__main__":
    main()
