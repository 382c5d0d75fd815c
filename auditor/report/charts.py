"""The report's charts as PNG files, drawn with Pillow (auditor/report/canvas.py).

PNG because every mail client shows it (attached by Content-ID in the .eml,
beside the HTML on disk); no SVG and no data: URIs, which Gmail and Outlook drop.
Each chart is at most 680 px wide, the page's width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from auditor import timezones
from auditor.report.canvas import Canvas, Colour, Sample, day_ticks, integer_ticks, mix, rgb
from auditor.report.context import ReportContext

WIDTH_PX = 680
USAGE = "#1d4ed8"
LIMIT = "#c81e1e"
OVER = "#e02424"
#: The band between the bounds of a polled instance, and a day's peak that only the upper bound reached.
BAND_ALPHA = 0.28
USAGE_LIGHT = "#a4c0f4"
OVER_LIGHT = "#f5a3a3"
#: The heatmap's colours from no use to its top value, evenly spaced.
HEAT = ("#f8fafc", "#93c5fd", "#1d4ed8", "#7f1d1d")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The plot area's left and right edges in pixels; each chart sets its own top and bottom.
_LEFT, _RIGHT = 51, 652
_LIMIT_DASH = (7, 3)
_LOWS_DOTS = (1, 2)


@dataclass(frozen=True)
class Chart:
    name: str
    path: Path
    alt: str
    width: int
    height: int


def _usage_line(report: ReportContext) -> tuple[list[datetime], list[int], list[int]]:
    """The step function's upper and lower bounds as points for post-step lines, with 0 wherever
    no piece covers the period."""
    f = report.figures
    xs: list[datetime] = []
    ys: list[int] = []
    lows: list[int] = []
    cursor = f.period_start
    for step in report.series.steps:
        if step.start > cursor:
            xs.append(cursor)
            ys.append(0)
            lows.append(0)
        xs.append(step.start)
        ys.append(step.seats)
        lows.append(step.seats_min)
        cursor = step.end
    xs += [cursor, f.period_end]
    ys += [0, 0]
    lows += [0, 0]
    return xs, ys, lows


def _limit_line(report: ReportContext) -> tuple[list[datetime], list[float]]:
    """The seat limit in force, from the entitlements; a gap (NaN) where none is."""
    f = report.figures
    xs: list[datetime] = []
    ys: list[float] = []
    cursor = f.period_start
    for span in f.limits:
        start = max(span.valid_from_ts, f.period_start)
        end = f.period_end if span.valid_to_ts is None else min(span.valid_to_ts, f.period_end)
        if start > cursor:
            xs.append(cursor)
            ys.append(math.nan)
        xs.append(start)
        ys.append(span.seat_limit)
        cursor = end
    xs += [cursor, f.period_end]
    ys += [math.nan if cursor < f.period_end else (ys[-1] if ys else math.nan)] * 2
    return xs, ys


def _time_ticks(report: ReportContext) -> list[tuple[float, str]]:
    """Where to mark the seats chart's time axis (POSIX seconds) and what to write there: local
    midnights over a period of days, and every few hours within one or two days."""
    f = report.figures
    period = f.period
    if period.days > 2:
        days, fmt = day_ticks(period.first_day, period.end_day)
        return [(timezones.local_midnight(d, f.timezone).timestamp(), d.strftime(fmt)) for d in days]
    zone = timezones.zone(f.timezone)
    hours = (f.period_end - f.period_start) // timedelta(hours=1)
    step = next(s for s in (1, 2, 3, 4, 6, 12) if hours // s + 1 <= 9)
    ticks = []
    for k in range(hours // step + 1):
        local = (f.period_start + timedelta(hours=k * step)).astimezone(zone)
        ticks.append((local.timestamp(), local.strftime("%d %b" if (local.hour, local.minute) == (0, 0) else "%H:%M")))
    return ticks


def _line_sample(colour: Colour, width: int = 1, dash: tuple[int, int] | None = None) -> Sample:
    def sample(canvas: Canvas, x: int, y: int) -> None:
        canvas.line([(x, y + 5), (x + 20, y + 5)], colour, width, dash)

    return sample


def seats_chart(report: ReportContext, path: Path) -> Chart:
    """Concurrent seats over the period as a step line, the seat limit as a dashed line.

    Where polls leave the seats in use between two bounds, the band between them is shaded and
    the lower bound dotted; a log's bounds are equal, and its chart is the plain line.
    """
    f = report.figures
    height = 220
    canvas = Canvas(WIDTH_PX, height, (_LEFT, 26, _RIGHT, 191))
    top = max([f.peak_seats, *(span.seat_limit for span in f.limits), 1])
    canvas.scales((f.period_start.timestamp(), f.period_end.timestamp()), (0, top + 1))
    xs, ys, lows = _usage_line(report)
    seconds = [x.timestamp() for x in xs]
    usage, band = rgb(USAGE), mix(USAGE, BAND_ALPHA)
    legend: list[tuple[Sample, str]] = []
    if lows != ys:
        for i in range(len(seconds) - 1):
            canvas.box(seconds[i], seconds[i + 1], lows[i], ys[i], band)
        for run in canvas.step_points(seconds, lows):
            canvas.line(run, usage, dash=_LOWS_DOTS)
        legend += [(lambda c, x, y: c.draw.rectangle((x, y + 1, x + 20, y + 9), fill=band), "may have been in use"),
                   (_line_sample(usage), "at most"), (_line_sample(usage, dash=_LOWS_DOTS), "at least")]
    else:
        legend.append((_line_sample(usage), "sessions in use"))
    for run in canvas.step_points(seconds, ys):
        canvas.line(run, usage)
    if f.limits:
        lx, ly = _limit_line(report)
        for run in canvas.step_points([x.timestamp() for x in lx], ly):
            canvas.line(run, rgb(LIMIT), 2, _LIMIT_DASH)
        legend.append((_line_sample(rgb(LIMIT), 2, _LIMIT_DASH), "seat limit"))
    canvas.spines()
    canvas.x_ticks([(canvas.x(x), label) for x, label in _time_ticks(report)])
    canvas.y_ticks([(canvas.y(v), str(v)) for v in integer_ticks(top + 1)])
    canvas.y_label("sessions")
    # Above the plot, where no peak can hide under it.
    canvas.legend(legend, _LEFT, 4)
    canvas.save(path)
    limit_words = "no seat limit" if f.seat_limit is None else f"a seat limit of {f.seat_limit}"
    peak = f"between {f.peak_seats_min} and {f.peak_seats}" if f.peak_seats_min < f.peak_seats else f"{f.peak_seats}"
    return Chart("seats", path, f"Concurrent sessions in use over {f.period.title}: peak {peak}, {limit_words}.", WIDTH_PX, height)


def daily_chart(report: ReportContext, path: Path) -> Chart:
    """Each local day's peak as a bar, red above the limit; the limit as a dashed step line."""
    f = report.figures
    period = f.period
    height = 200
    canvas = Canvas(WIDTH_PX, height, (_LEFT, 10, _RIGHT, 174))
    peaks = [d.peak_seats for d in report.days]
    limits = [span.seat_limit for span in f.limits]
    canvas.scales((0, period.days), (0, max([*peaks, *limits, 1]) + 1))
    over = [d.seat_limit is not None and d.peak_seats > d.seat_limit for d in report.days]
    polled = any(d.peak_seats_min < d.peak_seats for d in report.days)
    for d, is_over in zip(report.days, over):
        x = (d.day - period.first_day).days
        if polled:
            # The most that may have been in use light, the fewest solid over it.
            canvas.box(x + 0.1, x + 0.9, 0, d.peak_seats, rgb(OVER_LIGHT if is_over else USAGE_LIGHT))
            solid = d.seat_limit is not None and d.peak_seats_min > d.seat_limit
            canvas.box(x + 0.1, x + 0.9, 0, d.peak_seats_min, rgb(OVER if solid else USAGE))
        else:
            canvas.box(x + 0.1, x + 0.9, 0, d.peak_seats, rgb(OVER if is_over else USAGE))
    if f.limits:
        # daily_usage has rows only for days with use: the limit comes from the entitlements, in local wall time.
        zone = timezones.zone(f.timezone)
        midnight = datetime.combine(period.first_day, time(0))
        lx, ly = _limit_line(report)
        days = [(x.astimezone(zone).replace(tzinfo=None) - midnight) / timedelta(days=1) for x in lx]
        for run in canvas.step_points(days, ly):
            canvas.line(run, rgb(LIMIT), 2, _LIMIT_DASH)
    canvas.spines()
    ticks, fmt = day_ticks(period.first_day, period.end_day)
    canvas.x_ticks([(canvas.x((d - period.first_day).days), d.strftime(fmt)) for d in ticks])
    canvas.y_ticks([(canvas.y(v), str(v)) for v in integer_ticks(canvas.y.hi)])
    canvas.y_label("daily peak")
    canvas.save(path)
    return Chart("daily", path, f"Daily peak of concurrent sessions: {sum(over)} of {len(report.days)} active days above the limit.",
                 WIDTH_PX, height)


def heat_colour(share: float) -> Colour:
    """The heatmap's colour for SHARE of its top value (0 to 1): one of 256 steps, linear between the HEAT colours."""
    return _HEAT_TABLE[round(min(max(share, 0.0), 1.0) * 255)]


def _heat_table() -> list[Colour]:
    stops = [rgb(c) for c in HEAT]
    table = []
    for k in range(256):
        position = k / 255 * (len(stops) - 1)
        i = min(int(position), len(stops) - 2)
        t = position - i
        table.append(tuple(round(a + t * (b - a)) for a, b in zip(stops[i], stops[i + 1])))
    return table  # type: ignore[return-value]


_HEAT_TABLE = _heat_table()


@lru_cache(maxsize=1)
def _cross() -> Image.Image:
    """A 7 px cross as a mask, drawn four times larger and scaled down so that its strokes are smooth."""
    big = Image.new("L", (28, 28), 0)
    pen = ImageDraw.Draw(big)
    pen.line([(2, 2), (25, 25)], fill=255, width=5)
    pen.line([(2, 25), (25, 2)], fill=255, width=5)
    return big.resize((7, 7), Image.Resampling.LANCZOS)


def heatmap_chart(report: ReportContext, path: Path) -> Chart:
    """Peak seats by local weekday and hour of day; a cross marks a cell above the seat limit."""
    f = report.figures
    grid = [[0] * 24 for _ in range(7)]
    for weekday, hour, peak in report.series.heatmap:
        grid[weekday - 1][hour] = max(grid[weekday - 1][hour], peak)
    busiest_peak = max(max(row) for row in grid)
    top = max(busiest_peak, f.seat_limit or 0, 1)
    height = 210
    canvas = Canvas(WIDTH_PX, height, (_LEFT, 10, 612, 168))
    canvas.scales((0, 24), (7, 0))  # Monday on top
    cross = _cross()
    columns, rows = [canvas.x(h) for h in range(25)], [canvas.y(r) for r in range(8)]
    for row in range(7):
        for hour in range(24):
            box = (columns[hour], rows[row], columns[hour + 1] - 1, rows[row + 1] - 1)
            canvas.draw.rectangle(box, fill=heat_colour(grid[row][hour] / top))
            if f.seat_limit is not None and grid[row][hour] > f.seat_limit:
                centre = ((box[0] + box[2]) // 2 - 3, (box[1] + box[3]) // 2 - 3)
                canvas.image.paste((255, 255, 255), (*centre, centre[0] + 7, centre[1] + 7), cross)
    canvas.spines()
    canvas.x_ticks([((columns[h] + columns[h + 1]) // 2, f"{h:02d}") for h in range(0, 24, 2)])
    canvas.y_ticks([((rows[r] + rows[r + 1]) // 2, _WEEKDAYS[r]) for r in range(7)])
    canvas.text(((_LEFT + 612) // 2, 192), f"hour of day ({f.timezone})", anchor="mt")
    _colour_bar(canvas, top, left=620, right=631)
    canvas.save(path)
    if busiest_peak > 0:
        row = max(range(7), key=lambda r: (max(grid[r]), -r))
        hour = grid[row].index(busiest_peak)
        alt = f"Peak sessions by weekday and hour: busiest {_WEEKDAYS[row]} {hour:02d}:00 with {busiest_peak}."
    else:
        alt = "Peak sessions by weekday and hour: no use."
    return Chart("heatmap", path, alt, WIDTH_PX, height)


def _colour_bar(canvas: Canvas, top: int, left: int, right: int) -> None:
    """The heatmap's key: its colours from 0 (bottom) to TOP, with whole-number ticks on the right."""
    rows = canvas.bottom - canvas.top
    for k in range(rows + 1):
        canvas.draw.line([(left, canvas.bottom - k), (right, canvas.bottom - k)], fill=heat_colour(k / rows))
    canvas.y_ticks([(round(canvas.bottom - v / top * rows), str(v)) for v in integer_ticks(top)], size=10, right=right)


def render_charts(report: ReportContext, folder: Path, stem: str) -> dict[str, Chart]:
    """Write the three PNGs as FOLDER/STEM-NAME.png."""
    return {
        c.name: c
        for c in (
            seats_chart(report, folder / f"{stem}-seats.png"),
            daily_chart(report, folder / f"{stem}-daily.png"),
            heatmap_chart(report, folder / f"{stem}-heatmap.png"),
        )
    }
