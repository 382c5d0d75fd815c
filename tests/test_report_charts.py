"""The charts' PNGs show the report's figures: read back pixel by pixel against the report's data.

Geometry is found in the image itself (the x axis is the row of ink across the plot, the y
ticks are ink left of it), so these tests hold the drawing to the data, not to a layout.
"""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import auditor.report.batch as batch
from auditor.report import charts, render_reports
from auditor.report.canvas import INK, Canvas, _dashes, day_ticks, integer_ticks, rgb
from auditor.report.context import ReportContext
from report_builder import Data, build, polled_data, standard_data


def _pngs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def _logs_and_polls() -> Data:
    """The standard instances and the polled ones (bands, bounds) in one warehouse."""
    logs, polls = standard_data(), polled_data()
    return Data(**{f.name: getattr(logs, f.name) + getattr(polls, f.name) for f in fields(Data)})


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, ReportContext]]:
    """Every report of the standard and polled instances, rendered in one process, with the
    report data each chart was drawn from."""
    root = tmp_path_factory.mktemp("charts")
    wh = build(root / "wh", _logs_and_polls())
    contexts: dict[str, ReportContext] = {}
    real = batch.render_charts

    def keep(report: ReportContext, folder: Path, stem: str) -> dict[str, charts.Chart]:
        contexts[report.figures.instance] = report
        return real(report, folder, stem)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch, "render_charts", keep)
        render_reports(wh, root / "all", period="2026-10", workers=1)
    return root / "wh", root / "all", contexts


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _is(pixels: np.ndarray, colour: str | tuple[int, int, int]) -> np.ndarray:
    want = np.array(rgb(colour) if isinstance(colour, str) else colour)
    return (pixels == want).all(axis=-1)


def _x_axis_row(pixels: np.ndarray) -> int:
    """The x axis: the lowest row that is ink across most of the image."""
    return int(np.nonzero(_is(pixels, INK).sum(axis=1) > pixels.shape[1] // 2)[0].max())


def _y_scale(pixels: np.ndarray, ticks: list[int]) -> tuple[int, float]:
    """(row of 0, rows per seat) from the y axis's tick marks, which stand left of the axis."""
    axis_column = int(np.argmax(_is(pixels, INK).sum(axis=0)))
    rows = np.nonzero(_is(pixels[:, axis_column - 3], INK))[0]
    assert len(rows) == len(ticks), (rows, ticks)
    return int(rows.max()), (rows.max() - rows.min()) / (ticks[-1] - ticks[0])


def test_each_reports_charts_do_not_depend_on_the_reports_drawn_before(drawn, tmp_path: Path):
    wh_path, together_dir, contexts = drawn
    together = _pngs(together_dir)
    assert len(together) == 3 * len(contexts) == 3 * 7
    from auditor.warehouse import Warehouse

    alone: dict[str, bytes] = {}
    for name in reversed(sorted(contexts)):
        render_reports(Warehouse(wh_path), tmp_path / name, period="2026-10", instances=[name], workers=1)
        alone.update(_pngs(tmp_path / name))
    assert alone == together


def test_the_daily_chart_has_a_bar_per_active_day_red_above_the_limit(drawn):
    _wh, out, contexts = drawn
    checked = 0
    for name, report in contexts.items():
        if any(d.peak_seats_min < d.peak_seats for d in report.days):
            continue  # polled: light and solid parts, below
        pixels = _pixels(out / report.figures.file_stem / "2026-10-daily.png")
        row = pixels[_x_axis_row(pixels) - 1]
        runs = _runs(row)
        expected = [charts.OVER if d.seat_limit is not None and d.peak_seats > d.seat_limit else charts.USAGE
                    for d in report.days if d.peak_seats > 0]
        assert [colour for colour, _start, _end in runs] == [rgb(c) for c in expected], name
        checked += len(expected)
    assert checked > 5


def test_the_daily_chart_of_polled_data_shows_both_bounds(drawn):
    _wh, out, contexts = drawn
    report = contexts["maybe.my.erp.net"]
    assert any(d.peak_seats_min < d.peak_seats for d in report.days)
    pixels = _pixels(out / report.figures.file_stem / "2026-10-daily.png")
    top = max([*(d.peak_seats for d in report.days), *(s.seat_limit for s in report.figures.limits), 1])
    zero, per_seat = _y_scale(pixels, integer_ticks(top + 1))
    bars = _runs(pixels[zero - 1])
    active = [d for d in report.days if d.peak_seats > 0]
    assert len(bars) == len(active)
    light = [charts.USAGE_LIGHT, charts.OVER_LIGHT]
    for day, (_colour, start, end) in zip(active, bars):
        bar = pixels[:, start : end + 1]  # all its columns: the limit's dashes may cover its top in some
        for colours, seats in ((light + [charts.USAGE, charts.OVER], day.peak_seats), ([charts.USAGE, charts.OVER], day.peak_seats_min)):
            rows = np.nonzero(np.any([_is(bar, c).any(axis=1) for c in colours], axis=0))[0]
            assert abs(zero - rows.min() - seats * per_seat) <= 1 if seats else not len(rows) or rows.min() >= zero - 1, (day, seats, zero, per_seat, rows.min())


def _runs(row: np.ndarray) -> list[tuple[tuple[int, int, int], int, int]]:
    """Runs of one non-white, non-ink colour along ROW: (colour, first column, last column)."""
    runs: list[tuple[tuple[int, int, int], int, int]] = []
    for x, pixel in enumerate(map(tuple, row)):
        if pixel in ((255, 255, 255), INK):
            continue
        if runs and runs[-1][0] == pixel and runs[-1][2] == x - 1:
            runs[-1] = (pixel, runs[-1][1], x)
        else:
            runs.append((pixel, x, x))
    return [r for r in runs if r[2] - r[1] >= 3]  # bars, not a dashed line's ends


def test_the_seats_chart_draws_the_peak_and_the_limit_at_their_heights(drawn):
    _wh, out, contexts = drawn
    for name, report in contexts.items():
        f = report.figures
        pixels = _pixels(out / f.file_stem / "2026-10-seats.png")
        top = max([f.peak_seats, *(s.seat_limit for s in f.limits), 1])
        zero, per_seat = _y_scale(pixels, integer_ticks(top + 1))
        plot = pixels[: _x_axis_row(pixels)].copy()
        plot[: round(zero - (top + 1) * per_seat)] = 255  # the legend, above the plot
        usage_rows = np.nonzero(_is(plot, charts.USAGE).any(axis=1))[0]
        if f.peak_seats:
            # Where the peak meets the limit, the limit's 2 px line is drawn over it.
            hidden = 2 if f.peak_seats in {s.seat_limit for s in f.limits} else 0
            assert -1 - hidden <= zero - usage_rows.min() - f.peak_seats * per_seat <= 1, name
        limit_rows = set(np.nonzero(_is(plot, charts.LIMIT).sum(axis=1) > 20)[0])
        for span in f.limits:
            assert {round(zero - span.seat_limit * per_seat)} & limit_rows, (name, span.seat_limit, limit_rows)
        if not f.limits:
            assert not limit_rows, name


def test_the_heatmap_crosses_the_cells_above_the_limit(drawn):
    _wh, out, contexts = drawn
    crossed = 0
    for name, report in contexts.items():
        f = report.figures
        grid: dict[tuple[int, int], int] = {}
        for weekday, hour, peak in report.series.heatmap:
            grid[weekday, hour] = max(grid.get((weekday, hour), 0), peak)
        above = sum(1 for v in grid.values() if f.seat_limit is not None and v > f.seat_limit)
        pixels = _pixels(out / f.file_stem / "2026-10-heatmap.png")
        cells = np.nonzero(~_is(pixels[:, 300], (255, 255, 255)))[0]
        plot = pixels[cells.min() : _x_axis_row(pixels), 60:600]  # inside the cells, clear of the labels and the colour bar
        assert _blobs(plot.min(axis=-1) >= 253) == above, name
        crossed += above
    assert crossed > 0


def _blobs(mask: np.ndarray) -> int:
    """Connected groups of True (8-neighbours)."""
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        while stack:
            cy, cx = stack.pop()
            if not (0 <= cy < mask.shape[0] and 0 <= cx < mask.shape[1]) or seen[cy, cx] or not mask[cy, cx]:
                continue
            seen[cy, cx] = True
            stack += [(cy + dy, cx + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return count


def test_a_month_is_marked_every_few_days_and_a_year_every_few_months():
    days, fmt = day_ticks(date(2026, 10, 1), date(2026, 11, 1))
    assert days == [date(2026, 10, d) for d in (1, 5, 9, 13, 17, 21, 25, 29)] and fmt == "%d %b"
    assert day_ticks(date(2026, 10, 6), date(2026, 10, 7)) == ([date(2026, 10, 6), date(2026, 10, 7)], "%d %b")
    months, fmt = day_ticks(date(2026, 1, 15), date(2027, 1, 1))
    assert months == [date(2026, m, 1) for m in (2, 4, 6, 8, 10, 12)] and fmt == "%b %Y"


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=3, max_value=12))
def test_integer_ticks_start_at_zero_step_evenly_and_reach_near_the_top(top: int, most: int):
    ticks = integer_ticks(top, most)
    assert 2 <= len(ticks) <= most
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] <= top < ticks[-1] + step
    assert all(b - a == step for a, b in zip(ticks, ticks[1:]))
    assert str(step).strip("0") in ("1", "2", "5")


def test_a_dashed_line_keeps_its_rhythm_around_corners():
    # 6 px right, then 6 px down: 13 pixels, on 3 / off 2.
    assert _dashes([(0, 0), (6, 0), (6, 6)], (3, 2)) == [[(0, 0), (2, 0)], [(5, 0), (6, 0), (6, 1)], [(6, 4), (6, 6)]]
    # A dotted line's dots are single pixels.
    assert _dashes([(0, 0), (0, 4)], (1, 2)) == [[(0, 0)], [(0, 3)]]


def _plain_step_points(canvas: Canvas, xs: list[float], ys: list[float]) -> list[list[tuple[int, int]]]:
    """Canvas.step_points the obvious way: point by point, a NaN ending a run, repeats dropped."""
    runs: list[list[tuple[int, int]]] = [[]]
    for i, y in enumerate(ys):
        if math.isnan(y):
            runs.append([])
            continue
        runs[-1].append((canvas.x(xs[i]), canvas.y(y)))
        if i + 1 < len(xs):
            runs[-1].append((canvas.x(xs[i + 1]), canvas.y(y)))
    return [[p for k, p in enumerate(run) if k == 0 or p != run[k - 1]] for run in runs if run]


@given(st.lists(st.tuples(st.floats(-10, 110), st.one_of(st.just(math.nan), st.integers(-1, 11).map(float))), min_size=1, max_size=12))
def test_step_points_equal_the_plain_point_by_point_line(points: list[tuple[float, float]]):
    canvas = Canvas(680, 220, (51, 26, 652, 191))
    canvas.scales((0, 100), (0, 10))
    xs, ys = [x for x, _ in sorted(points)], [y for _, y in sorted(points, key=lambda p: p[0])]
    assert canvas.step_points(xs, ys) == _plain_step_points(canvas, xs, ys)
