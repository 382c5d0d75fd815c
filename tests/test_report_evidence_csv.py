"""The breaches CSV: text quoted, numbers not, and no piece of any cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from auditor.report.batch import evidence_csv, guard_text
from auditor.report.context import BreachRow, PeakSession

T = datetime(2026, 10, 5, 11, 30, tzinfo=timezone(timedelta(hours=3)))
HOSTILE = [
    "x;=1+1;y", "=cmd|' /C calc'!A0", "a,@b", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x", " =x", '"=x', "a; =b",
    'a;"=b', "a|=b", "a\t=b", "a\n=b", "a;;=b", "plain, text; fine",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv(values: list[str]) -> str:
    sessions = tuple(
        PeakSession(f"sid-{i}", value, "EXT", value, value, 2, T, T + timedelta(hours=1)) for i, value in enumerate(values)
    )
    breach = BreachRow(T, T + timedelta(hours=1), 3600.0, 5, T, 3, 2, sessions, False, False, True, True, 3600.0)
    return evidence_csv([breach])


def _pieces(text: str, separator: str) -> list[str]:
    """What a spreadsheet that splits on SEPARATOR, unaware of quotes, makes of each line."""
    return [piece for line in text.splitlines() for piece in line.split(separator)]


@pytest.mark.parametrize("separator", [";", ",", "\t", "|"])
def test_no_split_in_any_locale_starts_a_cell_with_a_formula(separator):
    written = _csv(HOSTILE)
    for piece in _pieces(written, separator):
        # A quote or spaces before the formula character do not stop a spreadsheet.
        assert not piece.lstrip(' "').startswith(FORMULA_START), (separator, piece)


def test_text_is_quoted_numbers_are_not_and_the_values_survive():
    written = _csv(["x;=1+1;y", "=cmd", "a,@b"])
    lines = written.splitlines()
    assert lines[0].startswith('"breach_start","breach_end","peak_at","peak_seats"')
    first = lines[1]
    assert ',5,3,"sid-0","x;\'=1+1;y","EXT","x;\'=1+1;y","x;\'=1+1;y",2,' in first
    rows = list(csv.DictReader(io.StringIO(written)))
    assert [r["user"] for r in rows] == ["x;'=1+1;y", "'=cmd", "a,'@b"]
    assert [(r["peak_seats"], r["seat_limit"], r["seats"]) for r in rows] == [("5", "3", "2")] * 3
    assert rows[0]["peak_at"] == "2026-10-05T11:30:00+03:00"


def test_guarding_leaves_ordinary_text_alone():
    for text in ("acme user", "Mia Petrova", "pc-42", "a-b", "x=1", "user@example.com", "a, b; c"):
        assert guard_text(text) == text
