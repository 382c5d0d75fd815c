"""The shipped sample data through ingest and audit: equal to the reference, and the
README's worked example quotes the audit's own figures."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

import reference
from auditor.audit import run_audit
from auditor.ingest import ingest
from auditor.warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Warehouse:
    wh = Warehouse.open(tmp_path_factory.mktemp("sample") / "wh", create=True)
    ingest(wh, [SAMPLE / "logs"])
    run_audit(wh, entitlements=SAMPLE / "entitlements.csv", plans=SAMPLE / "plans.toml")
    return wh


def test_sample_data_audit_equals_the_reference(audited: Warehouse) -> None:
    con = audited.connect()
    events = con.sql("SELECT * FROM events").to_arrow_table().to_pylist()
    ents = [
        reference.Ent(e["instance"], e["valid_from_ts"], e["valid_to_ts"], e["seat_limit"], e["timezone"])
        for e in reference.read_table(audited, "entitlements")
    ]
    expected = reference.audit(events, ents)
    for table in ("sessions", "usage_steps", "breaches", "daily_usage"):
        assert reference.read_table(audited, table) == reference.sort_rows(expected[table], table), table


def test_worked_example_figures(audited: Warehouse) -> None:
    acme = {r["instance"]: r for r in reference.read_table(audited, "instance_summary")}["acme.my.erp.net"]
    assert (acme["status"], acme["peak_seats"], acme["p95_seats"], acme["denials"], acme["breach_count"],
            acme["recommended_seat_limit"], acme["recommended_extra_sessions"], acme["fits_plan_maximum"]) == (
        "compliant", 7, 5, 26, 0, 7, 4, True)
    assert acme["peak_at"].replace(microsecond=0) == datetime(2026, 10, 22, 7, 22, 21, tzinfo=timezone.utc)
    sessions = [s for s in reference.read_table(audited, "sessions") if s["instance"] == "acme.my.erp.net"]
    reasons = {r: sum(1 for s in sessions if s["end_reason"] == r) for r in ("logout", "idle_timeout", "absolute_expiry", "restart")}
    assert (len(sessions), reasons) == (343, {"logout": 128, "idle_timeout": 149, "absolute_expiry": 62, "restart": 4})
    days = {d["day"]: d for d in reference.read_table(audited, "daily_usage") if d["instance"] == "acme.my.erp.net"}
    quoted = {  # day: (peak seats, seat limit, refused logins, sessions, users)
        date(2026, 10, 13): (5, 5, 5, 13, 6),
        date(2026, 10, 14): (5, 5, 3, 18, 8),
        date(2026, 10, 17): (1, 5, 0, 3, 2),
        date(2026, 10, 19): (6, 7, 0, 14, 7),
        date(2026, 10, 22): (7, 7, 0, 20, 7),
        date(2026, 10, 25): (1, 7, 0, 3, 2),
    }
    for day, figures in quoted.items():
        d = days[day]
        assert (d["peak_seats"], d["seat_limit"], d["denials"], d["sessions"], d["distinct_users"]) == figures, day
    assert sum(d["denials"] for day, d in days.items() if day < date(2026, 10, 19)) == 25
    readme = (ROOT / "README.md").read_text()
    assert "| Thu 2026-10-22 | 7 | 10:22:21 | 7 | 0 | 20 | 7 |" in readme
