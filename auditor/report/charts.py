"""The report's charts as PNG files (matplotlib, Agg backend).

PNG because every mail client shows it (attached by Content-ID in the .eml,
beside the HTML on disk); no SVG and no data: URIs, which Gmail and Outlook drop.
Each chart is at most 680 px wide, the page's width.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import TypeVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

from auditor.report.context import ReportContext  # noqa: E402
from auditor import timezones  # noqa: E402

WIDTH_PX = 680
DPI = 100
USAGE = "#1d4ed8"
LIMIT = "#c81e1e"
OVER = "#e02424"
#: The band between the bounds of a polled instance, and a day's peak that only the upper bound reached.
BAND_ALPHA = 0.28
USAGE_LIGHT = "#a4c0f4"
OVER_LIGHT = "#f5a3a3"
_METADATA = {"Software": None}  # no version string: the same data gives the same bytes
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Chart:
    name: str
    path: Path
    alt: str
    width: int
    height: int


class _Frame:
    """One chart's Figure, Agg canvas and Axes, kept for the whole process and redrawn per report.

    Creating a figure, its axes and their ticks took most of a chart's time; a
    frame keeps them (and the canvas's renderer, so text metrics stay cached)
    and each chart removes the previous report's data artists before drawing
    its own. Axis limits, locators and formatters are set by every chart, so
    nothing of one report reaches the next: the PNG bytes are those of a fresh
    figure (checked against the golden reports' charts).
    """

    def __init__(self, height_px: int) -> None:
        self.figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_subplot()
        for side in ("top", "right"):
            self.ax.spines[side].set_visible(False)
        self.ax.tick_params(labelsize=8)

    def clear_data(self) -> None:
        """Remove what the previous chart drew on the axes (lines, bars, bands, markers, legend)."""
        ax = self.ax
        for container in list(ax.containers):
            container.remove()
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            artist.remove()
        if ax.legend_ is not None:
            ax.legend_.remove()


_F = TypeVar("_F", bound=_Frame)
#: The frames of this process, by chart (see _Frame); each worker process builds its own.
_FRAMES: dict[str, _Frame] = {}
_FRAMES_LOCK = threading.RLock()


def _frame(name: str, height_px: int, kind: type[_F]) -> _F:
    """This process's frame for chart NAME, cleared of the previous chart's data."""
    frame = _FRAMES.get(name)
    if not isinstance(frame, kind):
        frame = _FRAMES[name] = kind(height_px)
    frame.clear_data()
    return frame


def _save(fig: Figure, path: Path, bottom: float = 0.13, top: float = 0.95) -> None:
    # Fixed margins instead of tight_layout: a quarter of each chart's time went there.
    fig.subplots_adjust(left=0.075, right=0.96, bottom=bottom, top=top)
    fig.savefig(path, format="png", dpi=DPI, metadata=_METADATA)


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
            ys.append(np.nan)
        xs.append(start)
        ys.append(span.seat_limit)
        cursor = end
    xs += [cursor, f.period_end]
    ys += [np.nan if cursor < f.period_end else (ys[-1] if ys else np.nan)] * 2
    return xs, ys


def seats_chart(report: ReportContext, path: Path) -> Chart:
    """Concurrent seats over the period as a step line, the seat limit as a line.

    Where polls leave the seats in use between two bounds, the band between them is shaded and
    both edges are drawn; a log's bounds are equal, and its chart is the plain line.
    """
    f = report.figures
    zone = timezones.zone(f.timezone)
    xs, ys, lows = _usage_line(report)
    lx, ly = _limit_line(report)
    height = 220
    frame = _frame("seats", height, _Frame)
    fig, ax = frame.figure, frame.ax
    if lows != ys:
        ax.fill_between(xs, lows, ys, step="post", color=USAGE, alpha=BAND_ALPHA, linewidth=0, label="may have been in use")
        ax.step(xs, ys, where="post", color=USAGE, linewidth=1.0, label="at most")
        ax.step(xs, lows, where="post", color=USAGE, linewidth=0.6, linestyle=":", label="at least")
    else:
        ax.step(xs, ys, where="post", color=USAGE, linewidth=1.0, label="sessions in use")
    if f.limits:
        ax.step(lx, ly, where="post", color=LIMIT, linewidth=1.4, linestyle="--", label="seat limit")
    ax.set_xlim(f.period_start, f.period_end)
    top = max([f.peak_seats, *(span.seat_limit for span in f.limits), 1])
    ax.set_ylim(0, top + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=zone, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b", tz=zone))
    ax.set_ylabel("sessions", fontsize=8)
    # Above the plot, where no peak can hide under it.
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, ncol=4, borderaxespad=0.1)
    _save(fig, path, top=0.88)
    limit_words = "no seat limit" if f.seat_limit is None else f"a seat limit of {f.seat_limit}"
    peak = f"between {f.peak_seats_min} and {f.peak_seats}" if f.peak_seats_min < f.peak_seats else f"{f.peak_seats}"
    return Chart("seats", path, f"Concurrent sessions in use over {f.period.title}: peak {peak}, {limit_words}.", WIDTH_PX, height)


def daily_chart(report: ReportContext, path: Path) -> Chart:
    """Each local day's peak as a bar, red above the limit; the limit as a step line."""
    f = report.figures
    # Bars centred on local noon, so that each covers its own day on a datetime axis.
    zone = timezones.zone(f.timezone)
    days = [datetime.combine(d.day, time(12)) for d in report.days]
    peaks = [d.peak_seats for d in report.days]
    colours = [OVER if d.seat_limit is not None and d.peak_seats > d.seat_limit else USAGE for d in report.days]
    height = 200
    frame = _frame("daily", height, _Frame)
    fig, ax = frame.figure, frame.ax
    if any(d.peak_seats_min < d.peak_seats for d in report.days):
        # Polled: the most that may have been in use light, the fewest solid over it.
        lows = [d.peak_seats_min for d in report.days]
        light = [OVER_LIGHT if c == OVER else USAGE_LIGHT for c in colours]
        solid = [OVER if d.seat_limit is not None and d.peak_seats_min > d.seat_limit else USAGE for d in report.days]
        ax.bar(days, peaks, color=light, width=0.8)
        ax.bar(days, lows, color=solid, width=0.8)
    elif days:
        ax.bar(days, peaks, color=colours, width=0.8)
    # daily_usage has rows only for days with use: the limit comes from the entitlements, in local wall time.
    lx, ly = _limit_line(report)
    if f.limits:
        ax.step([x.astimezone(zone).replace(tzinfo=None) for x in lx], ly, where="post", color=LIMIT, linewidth=1.4, linestyle="--")
    limits = [span.seat_limit for span in f.limits]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_xlim(datetime.combine(f.period.first_day, time(0)), datetime.combine(f.period.end_day, time(0)))
    ax.set_ylim(0, max([*peaks, *limits, 1]) + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("daily peak", fontsize=8)
    _save(fig, path)
    over = sum(1 for c in colours if c == OVER)
    return Chart("daily", path, f"Daily peak of concurrent sessions: {over} of {len(days)} active days above the limit.", WIDTH_PX, height)


class _HeatmapFrame(_Frame):
    """The heatmap's frame: its image and colour bar stay too; a chart sets their data and scale."""

    def __init__(self, height_px: int) -> None:
        super().__init__(height_px)
        cmap = LinearSegmentedColormap.from_list("seats", ["#f8fafc", "#93c5fd", "#1d4ed8", "#7f1d1d"])
        self.image = self.ax.imshow(np.zeros((7, 24)), aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        self.ax.set_yticks(range(7), _WEEKDAYS)
        self.ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        bar = self.figure.colorbar(self.image, ax=self.ax, pad=0.01, fraction=0.04)
        bar.ax.tick_params(labelsize=7)


def heatmap_chart(report: ReportContext, path: Path) -> Chart:
    """Peak seats by local weekday and hour of day."""
    f = report.figures
    grid = np.zeros((7, 24))
    for weekday, hour, peak in report.series.heatmap:
        grid[weekday - 1, hour] = max(grid[weekday - 1, hour], peak)
    top = max(float(grid.max()), float(f.seat_limit or 0), 1.0)
    height = 210
    frame = _frame("heatmap", height, _HeatmapFrame)
    fig, ax = frame.figure, frame.ax
    frame.image.set_data(grid)
    frame.image.set_clim(0, top)  # the colour bar follows (its 'changed' callback)
    if f.seat_limit is not None:
        ys, xs = np.nonzero(grid > f.seat_limit)
        ax.scatter(xs, ys, marker="x", color="white", s=14, linewidths=1.0)
    ax.set_xlabel(f"hour of day ({f.timezone})", fontsize=8)
    _save(fig, path, bottom=0.2)
    busiest = np.unravel_index(int(np.argmax(grid)), grid.shape)
    alt = "Peak sessions by weekday and hour" + (
        f": busiest {_WEEKDAYS[busiest[0]]} {busiest[1]:02d}:00 with {int(grid.max())}." if grid.max() > 0 else ": no use."
    )
    return Chart("heatmap", path, alt, WIDTH_PX, height)


def render_charts(report: ReportContext, folder: Path, stem: str) -> dict[str, Chart]:
    """Write the three PNGs as FOLDER/STEM-NAME.png."""
    with _FRAMES_LOCK:  # one report at a time on this process's frames, whatever thread calls
        return {
            c.name: c
            for c in (
                seats_chart(report, folder / f"{stem}-seats.png"),
                daily_chart(report, folder / f"{stem}-daily.png"),
                heatmap_chart(report, folder / f"{stem}-heatmap.png"),
            )
        }
