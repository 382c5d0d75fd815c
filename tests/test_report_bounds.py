"""Reports of polled instances speak in bounds (issue 11); log instances' reports do not change.

The warehouse holds report_builder's standard (log) instances next to its two polled ones
(polled_data): the log instances' pages must equal their golden files byte for byte.
"""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from auditor.audit import run_audit
from auditor.report import render_reports
from auditor.report.charts import BAND_ALPHA, USAGE
from auditor.report.period import month_period
from auditor.tables import TABLES
from auditor.warehouse import Warehouse
from regen_golden import GOLDEN
from report_builder import Data, Ent, Sess, build, coverage, polled_data, standard_data, utc
from report_html import Page, email_safety_problems, read
from test_report_context import figures_for

POLL, MAYBE = "poll.my.erp.net", "maybe.my.erp.net"


def mixed_data() -> Data:
    d, p = standard_data(), polled_data()
    d.entitlements += p.entitlements
    d.sessions += p.sessions
    d.polls += p.polls
    d.gaps += p.gaps
    d.observed += p.observed
    return d


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bounds") / "wh", mixed_data())


@pytest.fixture(scope="module")
def out(warehouse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bounds-out")
    render_reports(warehouse, folder, period="2026-10", eml=True)
    return folder


def test_figures_carry_both_bounds_and_the_coverage(warehouse):
    f = figures_for(warehouse)
    poll, maybe = f[POLL], f[MAYBE]
    assert (poll.peak_seats_min, poll.peak_seats) == (4, 5)
    assert (poll.seconds_over_limit_min, poll.seconds_over_limit) == (30 * 60.0, 39 * 60.0)
    assert (poll.breach_count, poll.certain_breach_count, poll.possible_breach_count) == (2, 1, 1)
    assert (poll.status, maybe.status) == ("breach", "possible_breach")
    assert (maybe.peak_seats_min, maybe.peak_seats, maybe.certain_breach_count) == (3, 5, 0)
    # The recommendation follows the upper bound.
    assert poll.recommendation.needed_limit == 5 and maybe.recommendation.needed_limit == 5
    # Coverage of October in Berlin (745 hours): 2 h 20 min and 10 min of the gaps lie beyond 5 minutes of a poll.
    start, end = month_period("2026-10").bounds("Europe/Berlin")
    assert poll.coverage == pytest.approx(coverage(polled_data(), POLL, start, end))
    assert poll.coverage == pytest.approx(1 - 150 / (745 * 60))
    assert maybe.coverage == 1.0
    assert poll.polled and maybe.polled
    assert not any(x.polled for name, x in f.items() if name not in (POLL, MAYBE))
    assert all(x.coverage == 1.0 and x.peak_seats_min == x.peak_seats and x.certain_breach_count == x.breach_count
               for name, x in f.items() if name not in (POLL, MAYBE))


def test_a_poll_with_no_session_marks_the_period_polled(tmp_path: Path):
    d = polled_data()
    d.sessions = [s for s in d.sessions if s.instance != MAYBE]
    f = figures_for(build(tmp_path / "wh", d))
    assert f[MAYBE].polled  # its polls of 8 Oct listed nothing
    assert f[MAYBE].status == "compliant" and f[MAYBE].peak_range == "0"
    september = figures_for(build(tmp_path / "wh2", d), month_period("2026-09"))
    assert not september[POLL].polled and not september[MAYBE].polled


def test_log_instances_pages_equal_their_golden_files(out):
    for name in ("acme", "calm", "full", "huge", "lost"):
        rel = f"{name}.my.erp.net/2026-10.html"
        assert (out / rel).read_text(encoding="utf-8") == (GOLDEN / "fixture" / rel).read_text(encoding="utf-8"), rel


def test_the_verdict_speaks_in_bounds(out):
    _html, poll = read(out / POLL / "2026-10.html")
    assert poll.ids["verdict"].startswith(
        "Not compliant. At the busiest moment between 4 and 5 sessions were in use at once, against a limit of 3, "
        "for between 30 min and 39 min in total over the limit, in 1 certain breach, 1 possible."
    )
    _html, maybe = read(out / MAYBE / "2026-10.html")
    verdict = maybe.ids["verdict"]
    assert verdict.startswith("The limit may have been exceeded. At the busiest moment between 3 and 5 sessions")
    assert "up to 4 min in 1 possible breach" in verdict and "the data cannot tell" in verdict
    assert "Not compliant" not in verdict


def test_breaches_are_certain_or_possible_with_time_over_as_a_range(out):
    _html, page = read(out / POLL / "2026-10.html")
    # Europe/Berlin is UTC+2 before 25 Oct.
    assert page.tables["breaches"] == [
        ["Start", "End", "Over the limit", "Peak (at most)", "Limit", "Excess (at most)", "Breach"],
        ["Tue 06 Oct 11:30", "Tue 06 Oct 12:05", "between 30 min and 35 min", "4", "3", "+1", "certain"],
        ["Thu 08 Oct 11:01", "Thu 08 Oct 11:05", "up to 4 min", "5", "3", "+2", "possible"],
    ]
    assert "Thu 08 Oct 11:02: up to 5 sessions in use, limit 3" in page.text


def test_the_footnote_names_interval_coverage_and_gaps_in_local_time(out):
    _html, page = read(out / POLL / "2026-10.html")
    note = page.ids["polling"]
    assert "polling its list of current sessions every 5 min." in note
    assert "Coverage: 99.6% of the period lay within 5 min of a successful poll." in note
    assert note.endswith("2 gaps without a successful poll; the longest: Wed 07 Oct 14:00 – Wed 07 Oct 16:30 (2 h 30 min); "
                         "Fri 09 Oct 10:00 – Fri 09 Oct 10:20 (20 min).")
    assert "2 seen only as a login in the audit log" in page.text and "1 not counted" in page.text
    _html, maybe = read(out / MAYBE / "2026-10.html")
    assert "Coverage: 100% of the period" in maybe.ids["polling"] and "No gap without a successful poll." in maybe.ids["polling"]
    _html, acme = read(out / "acme.my.erp.net" / "2026-10.html")
    assert "polling" not in acme.ids


def test_the_recommendation_says_it_follows_the_upper_bound(out):
    for name in (POLL, MAYBE):
        _html, page = read(out / name / "2026-10.html")
        assert "this recommendation follows the upper bound" in page.ids["recommendation"]
        assert "We recommend adding 2 sessions" in page.ids["recommendation"]


def _band_pixels(png: Path) -> int:
    """Pixels of the shaded band's colour: USAGE at BAND_ALPHA over white."""
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=float) / 255
    usage = np.array([int(USAGE[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    band = 1 - BAND_ALPHA * (1 - usage)
    return int((np.abs(rgb - band).max(axis=-1) < 0.03).sum())


def test_the_seats_chart_shades_the_band_between_the_bounds(warehouse, tmp_path: Path):
    # One day, so that the 5-minute bands are a few pixels wide.
    render_reports(warehouse, tmp_path, date_from=month_period("2026-10").first_day + timedelta(days=5),
                   date_to=month_period("2026-10").first_day + timedelta(days=6), instances=[POLL, "acme.my.erp.net"])
    stem = "2026-10-06_2026-10-06"
    assert _band_pixels(tmp_path / POLL / f"{stem}-seats.png") > 40
    assert _band_pixels(tmp_path / "acme.my.erp.net" / f"{stem}-seats.png") == 0


def test_the_charts_text_alternative_gives_the_peak_as_bounds(out):
    _html, page = read(out / POLL / "2026-10.html")
    alts = {img["src"].rsplit("-", 1)[-1]: img["alt"] for img in page.attrs("img")}
    assert alts["seats.png"] == "Concurrent sessions in use over October 2026: peak between 4 and 5, a seat limit of 3."
    assert "The busiest moment of each day (at most: light, at least: dark)" in page.text


def test_the_portfolio_shows_status_and_bounds(out):
    _html, page = read(out / "index.html")
    rows = {r[0].split()[0]: r for r in page.tables["instances"][1:]}
    assert rows[POLL][1:6] == ["In breach", "4–5", "3", "≤ 39 min", "1 + 1 possible"]
    assert rows[MAYBE][1:6] == ["Possible breach", "3–5", "3", "≤ 4 min", "0 + 1 possible"]
    assert rows["acme.my.erp.net"][1:6] == ["In breach", "5", "4", "3 h 30 min", "2"]
    order = [r[0].split()[0] for r in page.tables["instances"][1:]]
    assert order.index("lost.my.erp.net") < order.index(MAYBE) < order.index("full.my.erp.net")
    assert page.ids["possibly-in-breach"] == "1" and page.ids["in-breach"] == "3"
    status = next(a for t, a in page.tags if a.get("class") == "status-possible_breach")
    assert "color: #b45309" in status["style"]
    assert "possibly in breach (polls cannot tell)" in page.text


def test_polled_reports_hold_the_email_constraints(out):
    for name in (POLL, MAYBE):
        html, page = read(out / name / "2026-10.html")
        assert email_safety_problems(html, page) == [], name
        unstyled = [(t, a["class"]) for t, a in page.tags if a.get("class") and not a.get("style")]
        assert unstyled == [], name  # every class's rules inlined
        msg = email.message_from_bytes((out / name / "2026-10.eml").read_bytes(), policy=email.policy.default)
        part = msg.get_body(("html",)).get_content()
        assert email_safety_problems(part, Page(part)) == []
    text = email.message_from_bytes((out / POLL / "2026-10.eml").read_bytes(), policy=email.policy.default)
    body = text.get_body(("plain",)).get_content()
    assert "NOT COMPLIANT. At the busiest moment between 4 and 5 sessions were in use at once, against a limit of 3: " \
           "between 30 min and 39 min over the limit in 1 certain breach, 1 possible." in body
    assert "peak at most 5, limit 3, excess +2, possible" in body
    assert "coverage 99.6%, 2 gaps without a successful poll" in body
    subject = email.message_from_bytes((out / MAYBE / "2026-10.eml").read_bytes(), policy=email.policy.default)["Subject"]
    assert subject.endswith("(possible breach)")



def test_compliant_and_unlicensed_polled_instances_in_words(tmp_path: Path):
    d = Data(entitlements=[Ent("calm.example", tz="UTC", customer="Calm")])  # limit 3
    for name in ("calm.example", "lost.example"):
        for i in range(2):  # seen until 10:00 and gone by 10:05
            d.sessions.append(Sess(name, f"s{i}", utc("2026-10-06 09:00"), utc("2026-10-06 10:05"),
                                   end_min=utc("2026-10-06 10:00"), source="poll", end_reason="vanished", user=f"u{i}"))
        # a login of the audit log no poll saw: in the upper bound only, until the next poll
        d.sessions.append(Sess(name, "login:1", utc("2026-10-06 09:02"), utc("2026-10-06 09:05"),
                               end_min=utc("2026-10-06 09:02"), source="poll", end_reason="unseen", user="late"))
    d.unlicensed.append("lost.example")
    render_reports(build(tmp_path / "wh", d), tmp_path / "out", period="2026-10")
    _html, calm = read(tmp_path / "out" / "calm.example" / "2026-10.html")
    assert calm.ids["verdict"].startswith(
        "Compliant. At the busiest moment between 2 and 3 of your 3 sessions were in use at once "
        "(the most first on Tue 06 Oct 09:02). You may have reached your limit: new logins are refused while it is full."
    )
    _html, lost = read(tmp_path / "out" / "lost.example" / "2026-10.html")
    assert lost.ids["verdict"].startswith("No licence on record. This instance was used by between 2 and 3 sessions at once at its busiest")
    d.entitlements[0] = Ent("calm.example", tz="UTC", customer="Calm", extra=1)  # limit 4
    render_reports(build(tmp_path / "wh2", d), tmp_path / "out2", period="2026-10", instances=["calm.example"])
    _html, calm = read(tmp_path / "out2" / "calm.example" / "2026-10.html")
    assert "You had at least 1 session to spare at the busiest moment." in calm.ids["verdict"]


def test_the_engines_polled_tables_reach_the_report(tmp_path: Path):
    """Polls written to the warehouse, audited by the engine, reported: the bounds arrive in the words."""
    wh = Warehouse.open(tmp_path / "wh", create=True)
    polls, listed = [], []
    seen_until = {"a": "10:00", "b": "10:00", "c": "10:00", "d": "09:30", "e": "10:05"}
    starts = {"a": "09:01", "b": "09:01", "c": "09:01", "d": "09:01", "e": "10:00:30"}
    at = utc("2026-10-06 08:00")
    while at <= utc("2026-10-06 12:00"):
        polls.append({"instance": "real.example", "polled_at": at, "ok": True, "listed": 0,
                      "collector_user": "auditor-collector", "collector_application": "ERP.net auditor collector",
                      "entity_set": "Systems_Monitoring_CurrentSessions"})
        for sid, until in seen_until.items():
            if utc(f"2026-10-06 {starts[sid]}") <= at <= utc(f"2026-10-06 {until}"):
                listed.append({"instance": "real.example", "polled_at": at, "session_id": sid, "user": sid,
                               "start_time": utc(f"2026-10-06 {starts[sid]}"), "applications": "ERP.net Web Client",
                               "device": "pc"})
        at += timedelta(minutes=5)
    with wh.transaction() as tx:
        for table, records in (("polls", polls), ("polled_sessions", listed)):
            schema = TABLES[table].schema
            tx.write(table, "2026-10-06", pa.table({c.name: [r.get(c.name) for r in records] for c in schema}, schema=schema))
    ents = tmp_path / "entitlements.csv"
    ents.write_text("instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n"
                    "real.example,Real Ltd,small-business-basic,0,2026-01-01,,UTC,am@example.com\n")
    run_audit(wh, entitlements=ents)
    f = figures_for(wh)["real.example"]
    assert f.polled and f.audit_status == "breach"
    assert (f.peak_seats_min, f.peak_seats, f.breach_count, f.certain_breach_count) == (4, 4, 2, 1)
    assert (f.seconds_over_limit_min, f.seconds_over_limit) == (29 * 60.0, 38.5 * 60)
    render_reports(wh, tmp_path / "out", period="2026-10")
    _html, page = read(tmp_path / "out" / "real.example" / "2026-10.html")
    assert "between 29 min and 38 min in total over the limit, in 1 certain breach, 1 possible." in page.ids["verdict"]
    assert "No gap without a successful poll." in page.ids["polling"]
    assert "Coverage: 0.5% of the period" in page.ids["polling"]  # 4 h 10 min of October's 744 hours

