"""The .eml: parses, carries text + HTML + every PNG the HTML names by cid:, goes to the account manager."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest

from auditor.report import render_reports
from auditor.report.email import header_text, recipient
from report_builder import XSS, build, standard_data
from report_html import Page, email_safety_problems


@pytest.fixture(scope="module")
def emls(tmp_path_factory):
    root = tmp_path_factory.mktemp("eml")
    result = render_reports(build(root / "wh", standard_data()), root / "out", period="2026-10", eml=True)
    return {p.parent.name: p for p in result.emls}


def parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_every_cid_the_html_uses_has_its_part(emls):
    assert len(emls) == 5
    for path in emls.values():
        msg = parse(path)
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",))
        html_part = msg.get_body(("html",))
        related = msg.get_payload()[1]
        assert related.get_content_type() == "multipart/related"
        html = html_part.get_content()
        used = set(re.findall(r'src="cid:([^"]+)"', html))
        parts = {p["Content-ID"].strip("<>"): p for p in related.iter_parts() if p["Content-ID"]}
        assert len(used) == 3 and used == set(parts)
        assert all(parts[c].get_content_type() == "image/png" and parts[c].get_content()[:4] == b"\x89PNG" for c in used)
        assert email_safety_problems(html, Page(html)) == []
        assert text.get_content().startswith("Concurrent-session report:")


def test_addressed_to_the_account_manager_with_customer_and_period(emls):
    acme = parse(emls["acme.my.erp.net"])
    assert acme["To"] == "Ann Manager <ann@example.com>"
    assert acme["Subject"] == "Concurrent sessions – Acme Ltd – October 2026 (in breach)"
    calm = parse(emls["calm.my.erp.net"])
    assert (calm["To"], calm["Subject"]) == ("bob@example.com", "Concurrent sessions – Calm & Co – October 2026 (compliant)")
    assert parse(emls["lost.my.erp.net"])["To"] is None  # no entitlement, no account manager


def test_plain_text_part_is_not_html_escaped(emls):
    text = parse(emls["acme.my.erp.net"]).get_body(("plain",)).get_content()
    assert "NOT COMPLIANT. Up to 5 concurrent sessions against a limit of 4" in text
    assert "&lt;" not in text and "add 1 session (to 5)" in text
    html = parse(emls["acme.my.erp.net"]).get_body(("html",)).get_content()
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_untrusted_text_cannot_inject_headers():
    assert header_text("Acme\r\nBcc: victim@example.com") == "Acme Bcc: victim@example.com"
    assert recipient("not an address") is None
    assert recipient("ann@example.com\nBcc: x@example.com") is None
    assert recipient("Ann <ann@example.com>") == "Ann <ann@example.com>"
