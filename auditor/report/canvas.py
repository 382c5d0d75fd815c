"""A small raster plotting kit for the report's charts: a plot area, its scales, ticks, lines, text.

The charts are step lines, bars and cells, all axis-aligned, so Pillow draws them
crisply at whole pixels; text is FreeType's, antialiased. matplotlib drew the same
charts, but its general machinery (artists, tick locators, text layout) cost most of
a report's time (benchmarks/README.md, "Reports"). Everything here is deterministic:
the same data gives the same PNG bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]
Point = tuple[int, int]
#: Draws a legend entry's sample in the 20 x 10 px box whose top-left corner is (x, y).
Sample = Callable[["Canvas", int, int], None]

INK = (34, 34, 34)  # axes, ticks and labels
WHITE = (255, 255, 255)
TICK_PX = 4


def rgb(colour: str) -> Colour:
    """'#1d4ed8' as (29, 78, 216)."""
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def mix(colour: str, alpha: float, under: Colour = WHITE) -> Colour:
    """COLOUR at ALPHA over UNDER: what a translucent fill looks like on a white page."""
    return tuple(round(alpha * c + (1 - alpha) * u) for c, u in zip(rgb(colour), under))  # type: ignore[return-value]


@lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled sans-serif at SIZE pixels: the same on every machine, no font file to ship."""
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):  # a Pillow built without FreeType
        raise RuntimeError("the report's charts need Pillow with FreeType support")
    return loaded


class Scale:
    """Data values [lo, hi] onto pixels [start, end]; for y, end < start (pixels grow downwards)."""

    def __init__(self, lo: float, hi: float, start: int, end: int) -> None:
        self.lo, self.hi, self.start, self.end = lo, hi, start, end
        self._per_unit = (end - start) / (hi - lo) if hi != lo else 0.0
        self._low, self._high = min(start, end), max(start, end)

    def __call__(self, value: float) -> int:
        """The pixel of VALUE, clamped to the plot area (what falls outside is drawn on its edge)."""
        return min(max(round(self.start + (value - self.lo) * self._per_unit), self._low), self._high)

    def many(self, values: Sequence[float]) -> np.ndarray:
        """The pixels of VALUES, as __call__ gives each (NaN gives the low edge: callers leave it out)."""
        pixels = np.rint(self.start + (np.asarray(values, dtype=float) - self.lo) * self._per_unit)
        return np.clip(np.nan_to_num(pixels, nan=self._low), self._low, self._high).astype(int)


class Canvas:
    """One chart: a white image and its plot area (left, top, right, bottom in pixels, inclusive)."""

    def __init__(self, width: int, height: int, area: tuple[int, int, int, int]) -> None:
        self.image = Image.new("RGB", (width, height), WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.left, self.top, self.right, self.bottom = area
        self.x = Scale(0.0, 1.0, self.left, self.right)
        self.y = Scale(0.0, 1.0, self.bottom, self.top)

    def scales(self, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.x = Scale(x[0], x[1], self.left, self.right)
        self.y = Scale(y[0], y[1], self.bottom, self.top)

    # Shapes, in data values.

    def box(self, x0: float, x1: float, y0: float, y1: float, fill: Colour) -> None:
        """A filled rectangle from (x0, y0) to (x1, y1); at least one pixel wide, nothing when its height rounds to 0."""
        left, right = self.x(x0), max(self.x(x1) - 1, self.x(x0))
        top, bottom = self.y(max(y0, y1)), self.y(min(y0, y1)) - 1
        if bottom >= top:
            self.draw.rectangle((left, top, right, bottom), fill=fill)

    def step_points(self, xs: Sequence[float], ys: Sequence[float]) -> list[list[Point]]:
        """A post-step line through (xs, ys) as pixel polylines: flat from each x to the next, then up or
        down; a NaN y leaves a gap."""
        px, py = self.x.many(xs), self.y.many(ys)
        shown = ~np.isnan(np.asarray(ys, dtype=float))
        # Each point, then the next one's x at this one's height.
        corners_x = np.column_stack([px, np.append(px[1:], -1)]).ravel()[:-1]
        corners_y = np.repeat(py, 2)[:-1]
        keep = np.repeat(shown, 2)[:-1]
        runs: list[list[Point]] = []
        bounds = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
        for start, end in zip(bounds[::2], bounds[1::2]):
            run_x, run_y = corners_x[start:end], corners_y[start:end]
            moves = np.concatenate([[True], (np.diff(run_x) != 0) | (np.diff(run_y) != 0)])
            runs.append(list(zip(run_x[moves].tolist(), run_y[moves].tolist())))
        return runs

    def line(self, points: list[Point], colour: Colour, width: int = 1, dash: tuple[int, int] | None = None) -> None:
        """An axis-aligned polyline; DASH (on, off) in pixels, its rhythm carried across corners."""
        if len(points) < 2:
            return
        if dash is None:
            self.draw.line(points, fill=colour, width=width)
            return
        for piece in _dashes(points, dash):
            if len(piece) == 1:
                self.draw.point(piece, fill=colour)
            else:
                self.draw.line(piece, fill=colour, width=width)

    # Axes.

    def spines(self) -> None:
        """The left and bottom edges of the plot area (no box: the charts read as lines on a page)."""
        self.draw.line([(self.left, self.top), (self.left, self.bottom), (self.right, self.bottom)], fill=INK, width=1)

    def x_ticks(self, ticks: Sequence[tuple[int, str]], size: int = 11) -> None:
        """Tick marks under the plot area at pixel columns, each with its label centred below."""
        for px, label in ticks:
            self.draw.line([(px, self.bottom), (px, self.bottom + TICK_PX)], fill=INK)
            self.text((px, self.bottom + TICK_PX + 2), label, size, anchor="mt")

    def y_ticks(self, ticks: Sequence[tuple[int, str]], size: int = 11, right: int | None = None) -> None:
        """Tick marks left of the plot area (or right of column RIGHT) at pixel rows, labels beside them."""
        for py, label in ticks:
            if right is None:
                self.draw.line([(self.left - TICK_PX, py), (self.left, py)], fill=INK)
                self.text((self.left - TICK_PX - 3, py), label, size, anchor="rm")
            else:
                self.draw.line([(right, py), (right + TICK_PX, py)], fill=INK)
                self.text((right + TICK_PX + 3, py), label, size, anchor="lm")

    def text(self, xy: tuple[int, int], words: str, size: int = 11, anchor: str = "la", colour: Colour = INK) -> None:
        """WORDS placed by ANCHOR (Pillow's: 'mt' centred below XY, 'rm' left of it...) at XY."""
        mask, (dx, dy) = _lettering(words, size, anchor)
        self.image.paste(colour, (xy[0] + dx, xy[1] + dy), mask)

    def y_label(self, words: str, size: int = 11) -> None:
        """WORDS read upwards, centred on the plot area's height, at the image's left edge."""
        mask = _upright(words, size)
        middle = (self.top + self.bottom) // 2
        self.image.paste(INK, (2, middle - mask.height // 2), mask)

    def legend(self, entries: Sequence[tuple[Sample, str]], x: int, y: int, size: int = 11) -> None:
        """A row of (sample, label) from (x, y), each label after its sample."""
        for sample, label in entries:
            sample(self, x, y)
            self.text((x + 24, y + 5), label, size, anchor="lm")
            x += 24 + round(font(size).getlength(label)) + 16

    def save(self, path: Path) -> None:
        # zlib level 3: half the time of the default 6, for files a quarter larger (a few KB).
        self.image.save(path, format="PNG", compress_level=3)


def integer_ticks(top: float, most: int = 6) -> list[int]:
    """0 and its multiples up to TOP, by the smallest of 1, 2, 5, 10, 20, 50… that gives at most MOST."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if int(top) // step + 1 <= most:
                return list(range(0, int(top) + 1, step))
        magnitude *= 10


def day_ticks(first: date, end: date, most: int = 9) -> tuple[list[date], str]:
    """Days from FIRST to END (both included) to mark on a period's axis, and their strftime format:
    every 1, 2, 3, 4, 7 or 14 days, whichever first gives at most MOST; over longer periods the
    first day of every 1, 2, 3, 6 or 12 months."""
    days = (end - first).days
    for step in (1, 2, 3, 4, 7, 14):
        if days // step + 1 <= most:
            return [date.fromordinal(first.toordinal() + k * step) for k in range(days // step + 1)], "%d %b"
    months: list[date] = []
    month = date(first.year, first.month, 1)
    while month <= end:
        if month >= first:
            months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    for step in (1, 2, 3, 6, 12):
        if len(months[::step]) <= most:
            return months[::step], "%b %Y"
    return months[:: -(-len(months) // most)], "%b %Y"


def _dashes(points: list[Point], dash: tuple[int, int]) -> list[list[Point]]:
    """The 'on' pieces of a dashed axis-aligned polyline, walking it pixel by pixel."""
    on, off = dash
    pixels = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        dx, dy = (x1 > x0) - (x1 < x0), (y1 > y0) - (y1 < y0)
        pixels += [(x0 + k * dx, y0 + k * dy) for k in range(1, abs(x1 - x0) + abs(y1 - y0) + 1)]
    pieces: list[list[Point]] = []
    current: list[Point] = []
    for i, pixel in enumerate(pixels):
        if i % (on + off) < on:
            current.append(pixel)
        elif current:
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return [_corners(p) for p in pieces]


def _corners(pixels: list[Point]) -> list[Point]:
    """A run of adjacent pixels as the polyline of its ends and corners."""
    if len(pixels) < 3:
        return pixels
    kept = [pixels[0]]
    for before, here, after in zip(pixels, pixels[1:], pixels[2:]):
        if (here[0] - before[0], here[1] - before[1]) != (after[0] - here[0], after[1] - here[1]):
            kept.append(here)
    kept.append(pixels[-1])
    return kept


@lru_cache(maxsize=1024)
def _lettering(words: str, size: int, anchor: str) -> tuple[Image.Image, Point]:
    """WORDS as a mask, and where its top-left corner lies from the anchor point: tick labels
    repeat from chart to chart, so each is rasterised once per process."""
    left, top, right, bottom = font(size).getbbox(words, anchor=anchor)
    mask = Image.new("L", (max(right - left, 1), max(bottom - top, 1)), 0)
    ImageDraw.Draw(mask).text((-left, -top), words, fill=255, font=font(size), anchor=anchor)
    return mask, (left, top)


@lru_cache(maxsize=64)
def _upright(words: str, size: int) -> Image.Image:
    """WORDS as a mask, turned to read upwards."""
    return _lettering(words, size, "la")[0].transpose(Image.Transpose.ROTATE_90)
