"""Reports rendered from sample_data/ through the real pipeline (ingest -> audit -> report), checked against the audit's tables."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from auditor.audit import run_audit
from auditor.ingest import ingest
from auditor.report import render_reports
from auditor.warehouse import Warehouse
from report_html import email_safety_problems, read

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipe")
    wh = Warehouse.open(root / "wh", create=True)
    ingest(wh, [SAMPLE_DATA / "logs"])
    run_audit(wh, entitlements=SAMPLE_DATA / "entitlements.csv", plans=SAMPLE_DATA / "plans.toml")
    result = render_reports(wh, root / "out", eml=True, plans=SAMPLE_DATA / "plans.toml")
    con = wh.connect()
    summary = {r[0]: r for r in con.execute(
        "SELECT instance, period_start, period_end, peak_seats, seconds_over_limit, breach_count, denials, status,"
        " seat_limit, timezone FROM instance_summary"
    ).fetchall()}
    breaches = con.execute(
        "SELECT instance, breach_start, breach_end, peak_seats, seat_limit, max_excess FROM breaches ORDER BY instance, breach_start"
    ).fetchall()
    con.close()
    return result, root / "out", summary, breaches


def test_every_report_is_safe_for_email(pipeline):
    result, out, summary, _ = pipeline
    assert len(result.reports) == len(summary)
    for path in [*result.reports, out / "index.html"]:
        html, page = read(path)
        assert email_safety_problems(html, page) == [], path


def test_every_breach_is_listed_with_seats_at_its_peak_adding_up(pipeline):
    result, out, summary, breaches = pipeline
    by_instance: dict[str, int] = {}
    for instance, *_rest in breaches:
        by_instance[instance] = by_instance.get(instance, 0) + 1
    assert by_instance, "sample_data should have breaches"
    for instance, n in by_instance.items():
        html, page = read(out / instance / "2026-10.html")
        listed = page.tables["breaches"][1:]
        # Only breaches overlapping October (in the instance's zone) are listed; the audit ran on October's data.
        assert len(listed) == n, instance
        for peak_line in re.findall(r"(\d+) sessions in use, limit (\d+)", page.text):
            assert int(peak_line[0]) > int(peak_line[1])
    for path in result.evidence:
        seats: dict[str, int] = {}
        peaks: dict[str, int] = {}
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                seats[row["peak_at"]] = seats.get(row["peak_at"], 0) + int(row["seats"])
                peaks[row["peak_at"]] = int(row["peak_seats"])
        assert seats == peaks, path


def test_overview_totals_and_prices(pipeline):
    _result, out, summary, _ = pipeline
    _html, page = read(out / "index.html")
    header, *rows = page.tables["instances"]
    assert page.ids["audited"] == str(len(summary)) == str(len(rows))
    assert page.ids["in-breach"] == str(sum(1 for r in rows if r[1] in ("In breach", "Beyond plan maximum")))
    add = header.index("Add")  # after the Terms column when any instance has findings (the sample's do)
    assert "Terms" in header
    added = [int(r[add][1:]) for r in rows if r[add].startswith("+")]
    assert page.ids["extra-total"] == str(sum(added)) and added
    assert float(page.ids["revenue"].replace(",", "")) > 0  # sample_data/plans.toml has prices


def test_reports_without_plans_option_use_the_catalogue_the_audit_used(pipeline, tmp_path):
    # nightly and demo render without --plans: the prices must come from the audit's stored catalogue.
    _result, out, _summary, _ = pipeline
    wh = Warehouse(out.parent / "wh")
    render_reports(wh, tmp_path / "again")
    _html, page = read(tmp_path / "again" / "index.html")
    assert page.ids["revenue"] == read(out / "index.html")[1].ids["revenue"]
    assert float(page.ids["revenue"].replace(",", "")) > 0
