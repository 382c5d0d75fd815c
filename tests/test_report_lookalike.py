"""Look-alike instance names are marked in the report header, the overview row and the e-mail."""

from __future__ import annotations

import email
import email.policy

import pytest

from auditor.report import render_reports
from report_builder import Data, Ent, Sess, build, utc
from report_html import email_safety_problems, read

LATIN = "<q>acme</q>.my.erp.net"
CYRILLIC = "<q>\u0430cme</q>.my.erp.net"  # Cyrillic а
PLAIN = "globex.my.erp.net"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("lookalike")
    d = Data()
    for name in (LATIN, CYRILLIC, PLAIN):
        d.entitlements.append(Ent(name, customer=None))
        d.sessions.append(Sess(name, "s1", utc("2026-10-05 08:00"), utc("2026-10-05 09:00")))
    result = render_reports(build(root / "wh", d), root / "out", period="2026-10", eml=True)
    return result, root / "out"


def _row(page, name):
    return next(r for r in page.tables["instances"][1:] if r[0].startswith(name))


def test_the_overview_marks_both_names_and_says_how_they_differ(rendered):
    _result, out = rendered
    html, page = read(out / "index.html")
    assert email_safety_problems(html, page) == []
    cyrillic = _row(page, CYRILLIC)[0]
    assert "Look-alike name: mixes Latin and Cyrillic letters (Cyrillic \u0430 U+0430)" in cyrillic
    assert f"looks the same as instance {LATIN}" in cyrillic
    assert f"Look-alike name: looks the same as instance {CYRILLIC} (Cyrillic \u0430 U+0430)" in _row(page, LATIN)[0]
    assert "Look-alike" not in _row(page, PLAIN)[0]
    # names stay text, in the row and in the note
    assert "q" not in {tag for tag, _attrs in page.tags} and "&lt;q&gt;" in html


def test_the_report_header_shows_the_note_next_to_the_name(rendered):
    result, _out = rendered
    # reports come in the order of the instances' names
    pages = dict(zip(sorted([LATIN, CYRILLIC, PLAIN]), (read(p) for p in result.reports)))
    for name, (html, page) in pages.items():
        assert email_safety_problems(html, page) == []
        assert "q" not in {tag for tag, _attrs in page.tags}
        assert f"Instance {name}" in page.text
    assert f"Instance {CYRILLIC} \u26a0 Look-alike name: mixes Latin and Cyrillic letters" in pages[CYRILLIC][1].text
    assert f"Instance {LATIN} \u26a0 Look-alike name: looks the same as instance {CYRILLIC}" in pages[LATIN][1].text
    assert "Look-alike" not in pages[PLAIN][1].text


def test_the_email_subject_and_text_carry_the_mark(rendered):
    result, _out = rendered
    subjects = {}
    for path in result.emls:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = msg.get_body(("plain",)).get_content()
        instance = msg["X-Auditor-Instance"]
        subjects[instance] = msg["Subject"]
        if instance == PLAIN:
            assert "look-alike" not in text
        else:
            assert f"Instance:   {instance} [look-alike name: " in text
    assert subjects[PLAIN].startswith("Concurrent sessions – globex.my.erp.net")
    assert subjects[CYRILLIC] == f"[look-alike name] Concurrent sessions – {CYRILLIC} – October 2026 (compliant)"
    assert subjects[LATIN].startswith("[look-alike name] Concurrent sessions – ")
