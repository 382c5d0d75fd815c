"""Charts drawn on a process's reused frames are byte for byte those of a fresh frame."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from auditor.report import charts, render_reports
from report_builder import Data, build, polled_data, standard_data


def _pngs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def _logs_and_polls() -> Data:
    """The standard instances and the polled ones (bands, bounds) in one warehouse."""
    logs, polls = standard_data(), polled_data()
    return Data(**{f.name: getattr(logs, f.name) + getattr(polls, f.name) for f in fields(Data)})


def test_each_reports_charts_equal_those_drawn_first_on_new_frames(tmp_path: Path):
    wh = build(tmp_path / "wh", _logs_and_polls())
    # Every report in a row on the same frames (in this process: workers=1)...
    result = render_reports(wh, tmp_path / "all", period="2026-10", workers=1)
    together = _pngs(tmp_path / "all")
    assert len(together) == 3 * len(result.reports) == 3 * 7
    # ...and each report alone on new frames, in the reverse order.
    alone: dict[str, bytes] = {}
    for name in reversed(result.instances):
        charts._FRAMES.clear()
        render_reports(wh, tmp_path / name, period="2026-10", instances=[name], workers=1)
        alone.update(_pngs(tmp_path / name))
    assert sorted(alone) == sorted(together)
    for rel, png in together.items():
        assert png == alone[rel], f"{rel} differs when drawn after other reports on the same frames"
