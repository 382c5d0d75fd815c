"""The portfolio overview, OUT/index.html: every instance of the period, most urgent first."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.report.build import build_overview
from auditor.report.context import InstanceFigures
from auditor.report.render import render_page


def render_overview(figures: Iterable[InstanceFigures]) -> str:
    return render_page("index.html", overview=build_overview(figures))
