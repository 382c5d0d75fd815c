"""Licence-term findings in the reports: the instance report's section, the verdict and recommendation
lines, the plain-text part, and the overview's column and order (a real audit of hand-built events)."""

from __future__ import annotations

import email
import email.policy
from datetime import date

import pytest

import reference
from auditor.audit import run_audit
from auditor.report import render_reports
from auditor.warehouse import Warehouse
from report_html import email_safety_problems, read
from test_engine_properties import _write_inputs
from test_engine_rules import ev

#: Two instances on plan tiny (1 seat) + 2 add-ons: a limit of 3, in UTC.
ENTS = [("alpha", date(2026, 10, 1), None, "UTC", 2), ("zeta", date(2026, 10, 1), None, "UTC", 2)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """zeta: one session whose requests alternate between two devices (a finding); alpha: two
    sessions of one user on two devices (its clean look-alike). Both compliant."""
    root = tmp_path_factory.mktemp("findings")
    devices = ["LAPTOP-MARIA", "PC-RECEPTION"] * 10
    events = [ev(0, "login", inst="zeta", device="LAPTOP-MARIA")]
    events += [ev(3 * (i + 1), "request", inst="zeta", device=d) for i, d in enumerate(devices)]
    events += [ev(0, "login", "a1", inst="alpha", device="pc1"), ev(5, "request", "a1", inst="alpha", device="pc1"),
               ev(1, "login", "a2", inst="alpha", device="laptop"), ev(6, "request", "a2", inst="alpha", device="laptop")]
    ent_path, plans_path, _ = _write_inputs(root, ENTS)
    wh = Warehouse.open(root / "wh", create=True)
    reference.write_events(wh, events)
    run_audit(wh, entitlements=ent_path, plans=plans_path)
    out = root / "out"
    render_reports(wh, out, period="2026-10", eml=True)
    return out


def test_the_report_describes_each_finding_with_its_evidence_and_term(rendered):
    html, page = read(rendered / "zeta" / "2026-10.html")
    assert email_safety_problems(html, page) == []
    section = page.ids["licence-terms"]
    assert "Licence terms" in section
    assert "One session used from several devices · ann" in section
    assert ("Session s1 was used from the devices LAPTOP-MARIA and PC-RECEPTION: the device changed 19 times "
            "on 2026-10-05 from 08:06 to 09:00") in section
    assert "Token sharing" in section and "05 Oct 08:06 – 09:00" in section
    assert "The licence counts 2 sessions for it: counted so, 2 sessions were in use at once at its worst" in section
    # one seat counted, two used: the implied peak stated beside the counted one, in the section and the recommendation
    assert "your busiest moment would have needed 2 sessions, not the 1 we counted" in section
    assert "follows the 1 session we counted. Counted as the licence terms say (see Licence terms above), your busiest moment needed 2." in page.ids["recommendation"]
    assert "Licence terms: 1 finding" in page.ids["verdict"]
    # the section comes after the breaches and before the refused logins
    assert html.index(">Breaches</h2>") < html.index('id="licence-terms"') < html.index(">Refused logins by day</h2>")


def test_a_clean_look_alike_gets_no_section(rendered):
    html, page = read(rendered / "alpha" / "2026-10.html")
    assert "licence-terms" not in html and "Licence terms" not in html
    assert "as the licence terms say" not in html


def test_the_plain_text_part_names_the_finding(rendered):
    message = email.message_from_bytes((rendered / "zeta" / "2026-10.eml").read_bytes(), policy=email.policy.default)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Licence terms: 1 finding" in text
    assert "the busiest moment needed 2 sessions, not 1" in text
    assert "- One session used from several devices (ann): Session s1 was used from the devices" in text


def test_the_overview_counts_findings_and_lists_their_instances_among_the_urgent(rendered):
    html, page = read(rendered / "index.html")
    assert email_safety_problems(html, page) == []
    rows = page.tables["instances"]
    assert rows[0][:2] == ["Instance", "Status"] and "Terms" in rows[0]
    terms = rows[0].index("Terms")
    # both compliant: zeta, with a finding, comes first although alpha sorts first by name
    assert [r[0].split()[0] for r in rows[1:]] == ["zeta", "alpha"]
    assert [r[terms] for r in rows[1:]] == ["1", "–"]
    assert 'href="zeta/2026-10.html#licence-terms"' in html
    assert page.ids["with-findings"] == "1"
    assert "Terms" in page.ids["terms-note"]


XSS_DEVICE = "<img src=x onerror=alert(1)>"
XSS_USER = '"><script>alert(2)</script>'


def test_hostile_names_in_a_finding_show_as_text(tmp_path):
    """A finding's evidence quotes device and user names from the logs: they stay text in the page and the mail."""
    devices = [XSS_DEVICE, "PC-RECEPTION"] * 10
    events = [ev(0, "login", inst="zeta", device=XSS_DEVICE, user=XSS_USER)]
    events += [ev(3 * (i + 1), "request", inst="zeta", device=d, user=XSS_USER) for i, d in enumerate(devices)]
    ent_path, plans_path, _ = _write_inputs(tmp_path, ENTS[1:])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    reference.write_events(wh, events)
    run_audit(wh, entitlements=ent_path, plans=plans_path)
    render_reports(wh, tmp_path / "out", period="2026-10", eml=True)
    html, page = read(tmp_path / "out" / "zeta" / "2026-10.html")
    section = page.ids["licence-terms"]
    assert XSS_DEVICE in section and XSS_USER in section  # shown, as text
    assert "<img src=x" not in html and "<script>" not in html
    assert email_safety_problems(html, page) == []
    message = email.message_from_bytes((tmp_path / "out" / "zeta" / "2026-10.eml").read_bytes(), policy=email.policy.default)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert XSS_DEVICE in text and "&lt;" not in text
