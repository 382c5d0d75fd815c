"""Rendered reports and the overview, read back with an HTML parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from auditor.report import render_reports
from report_builder import XSS, Data, Ent, Sess, build, standard_data, utc
from report_html import email_safety_problems, read


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    wh = build(root / "wh", standard_data())
    return render_reports(wh, root / "out", period="2026-10"), root / "out"


def test_one_report_per_instance_and_the_overview_last(rendered):
    result, out = rendered
    assert [p.relative_to(out).as_posix() for p in result.reports] == [
        f"{name}.my.erp.net/2026-10.html" for name in ("acme", "calm", "full", "huge", "lost")
    ]
    assert result.paths()[-1] == out / "index.html"
    assert len(result.charts) == 15 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in result.charts)


def test_reports_are_safe_for_email(rendered):
    result, out = rendered
    for path in [*result.reports, out / "index.html"]:
        html, page = read(path)
        assert email_safety_problems(html, page) == [], path
        for img in page.attrs("img"):
            png = path.parent / img["src"]
            width, height = Image.open(png).size
            assert (width, height) == (int(img["width"]), int(img["height"])), png
            assert width <= 700 and img["alt"]
        assert all(int(t["width"]) <= 700 for t in page.attrs("table") if t.get("width", "100%").isdigit())


def test_hostile_names_show_as_text(rendered):
    _result, out = rendered
    html, page = read(out / "acme.my.erp.net" / "2026-10.html")
    assert XSS in page.text
    assert "<img src=x" not in html
    assert all(img.get("onerror") is None for img in page.attrs("img"))


def test_every_breach_is_listed_with_the_sessions_at_its_peak(rendered):
    _result, out = rendered
    _html, page = read(out / "acme.my.erp.net" / "2026-10.html")
    rows = page.tables["breaches"][1:]
    # Times in Europe/Sofia (UTC+3 before 25 Oct).
    assert rows == [
        ["Mon 05 Oct 11:30", "Mon 05 Oct 14:00", "2 h 30 min", "5", "3", "+2"],
        ["Tue 20 Oct 11:00", "Tue 20 Oct 12:00", "1 h 00 min", "5", "4", "+1"],
    ]
    assert "u0 d0 web 1" in page.text and f"{XSS} srv Robot 5" in page.text


def test_verdict_and_recommendation_in_words(rendered):
    _result, out = rendered
    _html, acme = read(out / "acme.my.erp.net" / "2026-10.html")
    assert acme.ids["verdict"].startswith("Not compliant. Up to 5 concurrent sessions were in use against a limit of 3, then 4 from 15 Oct, for 3 h 30 min in total over the limit, in 2 breaches.")
    assert "Refused logins (limit reached): 1." in acme.ids["verdict"]
    assert "adding 1 session to your Small Business Basic plan" in acme.ids["recommendation"]
    assert "users, devices and user accounts are not limited" in acme.ids["recommendation"]
    _html, calm = read(out / "calm.my.erp.net" / "2026-10.html")
    assert calm.ids["verdict"].startswith("Compliant. At most 1 of your 5 concurrent sessions")
    assert "None: the number of sessions in use never went over your limit." in calm.text
    assert "1 whose start was inferred" in calm.text and "1 still open at the end of the data" in calm.text
    _html, huge = read(out / "huge.my.erp.net" / "2026-10.html")
    assert "You need a larger plan" in huge.ids["recommendation"]
    assert huge.ids["verdict"].endswith("That is more than the 35 sessions a Small Business Basic plan can have. Refused logins (limit reached): 0.")
    _html, lost = read(out / "lost.my.erp.net" / "2026-10.html")
    assert lost.ids["verdict"].startswith("No licence on record.")


def test_denials_by_day_in_the_customers_time_zone(rendered):
    _result, out = rendered
    _html, page = read(out / "full.my.erp.net" / "2026-10.html")
    assert page.tables["denials"][1:] == [["Mon 12 Oct", "1", "3", "3"], ["Tue 13 Oct", "1", "0", "3"]]


def test_overview_lists_every_instance_most_urgent_first_with_links(rendered):
    _result, out = rendered
    html, page = read(out / "index.html")
    rows = page.tables["instances"][1:]
    assert [r[1] for r in rows] == ["In breach", "Beyond plan maximum", "Unlicensed", "At the limit", "Compliant"]
    assert rows[0] == ["acme.my.erp.net Acme Ltd", "In breach", "5", "4", "3 h 30 min", "2", "1", "+1"]
    hrefs = [a["href"] for a in page.attrs("a")]
    assert hrefs == [f"{n}.my.erp.net/2026-10.html" for n in ("acme", "huge", "lost", "full", "calm")]
    assert all((out / h).is_file() for h in hrefs)
    assert (page.ids["audited"], page.ids["in-breach"], page.ids["extra-total"]) == ("5", "2", "1")
    assert "revenue" not in page.ids  # no prices in the built-in catalogue


def test_report_of_selected_instances_keeps_the_full_overview(tmp_path: Path):
    wh = build(tmp_path / "wh", standard_data())
    result = render_reports(wh, tmp_path / "out", period="2026-10", instances=["CALM.my.erp.net"])
    assert [p.parent.name for p in result.reports] == ["calm.my.erp.net"]
    _html, page = read(tmp_path / "out" / "index.html")
    assert len(page.tables["instances"]) == 6


def test_many_breaches_stay_under_the_size_limit(tmp_path: Path):
    d = Data(entitlements=[Ent("busy.example", extra=0)])
    for day in range(1, 32):
        for hour in (8, 13):
            for i in range(12):
                start = utc(f"2026-10-{day:02d} {hour:02d}:00")
                d.sessions.append(Sess("busy.example", f"{day}-{hour}-{i}", start, start.replace(minute=45), user=f"user number {i} with a long name", device=f"device-{i}-{'x' * 20}", app="Desktop client"))
    result = render_reports(build(tmp_path / "wh", d), tmp_path / "out", period="2026-10")
    html, page = read(result.reports[0])
    assert len(page.tables["breaches"]) == 1 + 62
    assert email_safety_problems(html, page) == []
    assert "listed in 2026-10-breaches.csv" in page.text
    evidence = result.evidence[0].read_text().splitlines()
    assert len(evidence) == 1 + 62 * 12


def test_rendering_in_worker_processes_writes_the_same_files(tmp_path: Path):
    wh = build(tmp_path / "wh", standard_data())
    serial = render_reports(wh, tmp_path / "one", period="2026-10", eml=False, workers=1)
    parallel = render_reports(wh, tmp_path / "two", period="2026-10", eml=False, workers=2)
    assert [p.relative_to(tmp_path / "one") for p in serial.paths()] == [p.relative_to(tmp_path / "two") for p in parallel.paths()]
    for a, b in zip(serial.paths(), parallel.paths()):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_period_the_data_covers_in_part_says_so(tmp_path: Path):
    wh = build(tmp_path / "wh", standard_data())
    result = render_reports(wh, tmp_path / "out", period="2026-09", instances=["acme.my.erp.net"])
    _html, page = read(result.reports[0])
    # The data runs from 30 Sep 06:00 UTC (09:00 in Sofia) to 31 Oct 09:00 UTC (12:00 in Sofia).
    assert "The data covers 30 Sep 2026 – 31 Oct 2026, not the whole period." in page.text
    _html, october = read(render_reports(wh, tmp_path / "oct", period="2026-10", instances=["calm.my.erp.net"]).reports[0])
    assert "not the whole period" not in october.text


def test_an_instance_idle_all_period_gets_a_friendly_report(tmp_path: Path):
    d = Data(entitlements=[Ent("idle.example", customer="Idle Ltd"), Ent("busy.example")])
    d.sessions.append(Sess("idle.example", "s", utc("2026-09-10 08:00"), utc("2026-09-10 09:00")))
    d.sessions.append(Sess("busy.example", "b", utc("2026-10-10 08:00"), utc("2026-10-10 09:00")))
    result = render_reports(build(tmp_path / "wh", d), tmp_path / "out", period="2026-10", instances=["idle.example"])
    html, page = read(result.reports[0])
    assert page.ids["verdict"].startswith("Compliant. At most 0 of your 3 concurrent sessions")
    assert "No change needed: your 3 sessions covered the period with 3 sessions to spare." in page.ids["recommendation"]
    assert email_safety_problems(html, page) == []
    assert len(result.charts) == 3 and result.evidence == []
