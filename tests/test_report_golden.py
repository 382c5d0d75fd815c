"""Rendered reports equal the reviewed copies in tests/golden/ (regenerate: python tests/regen_golden.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from regen_golden import GOLDEN, GOLDEN_SETS


@pytest.mark.parametrize("name", sorted(GOLDEN_SETS))
def test_reports_match_golden_files(name: str, tmp_path: Path):
    rendered = GOLDEN_SETS[name](tmp_path)
    folder = GOLDEN / name
    expected = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.html"))}
    assert sorted(rendered) == sorted(expected), "a report was added or lost; run python tests/regen_golden.py and review"
    for rel, text in rendered.items():
        assert text == expected[rel], f"{rel} differs from tests/golden/{name}/{rel}; if intended, run python tests/regen_golden.py and review the diff"
