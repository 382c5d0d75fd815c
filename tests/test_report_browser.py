"""A report opened in headless Chromium: it draws something, and no wider than the e-mail layout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from auditor.report import render_reports
from report_builder import build, standard_data

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW_WIDTH = 1200
#: The page is 680 px, centred; its content must lie within about 720 px.
MAX_CONTENT_WIDTH = 720

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"),
]


def screenshot(page: Path, out: Path, profile: Path) -> np.ndarray:
    subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--screenshot={out}", f"--window-size={WINDOW_WIDTH},2400", page.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )
    return np.asarray(Image.open(out).convert("RGB"), dtype=float) / 255


def content_columns(pixels: np.ndarray) -> tuple[int, int]:
    """The leftmost and rightmost columns whose colour differs from the page background (the corners)."""
    background = pixels[0, 0]
    differs = np.any(np.abs(pixels - background) > 0.02, axis=2).any(axis=0)
    columns = np.nonzero(differs)[0]
    return int(columns[0]), int(columns[-1])


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    result = render_reports(build(root / "wh", standard_data()), root / "out", period="2026-10")
    pages = {"report": result.reports[0], "index": result.index}
    return {name: screenshot(path, root / f"{name}.png", root / f"profile-{name}") for name, path in pages.items()}


@pytest.mark.parametrize("name", ["report", "index"])
def test_page_is_drawn_and_not_blank(shots, name):
    pixels = shots[name]
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(colours) > 50, "the screenshot is nearly uniform: nothing was drawn"
    dark = (pixels.mean(axis=2) < 0.3).mean()
    assert dark > 0.0003, "no text-coloured pixels"


@pytest.mark.parametrize("name", ["report", "index"])
def test_layout_is_no_wider_than_the_email_width(shots, name):
    left, right = content_columns(shots[name])
    assert right - left + 1 <= MAX_CONTENT_WIDTH, (left, right)
    assert right - left + 1 >= 600, "the page is suspiciously narrow"
