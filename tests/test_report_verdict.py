"""One rule for a period's verdict: queries/audit/verdict.sql, for instance_summary and for every report.

First the statement alone, on hand-made per-day rows; then both of its callers on
the same audited events: what instance_summary says and what the report shows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import reference
from auditor.audit import run_audit
from auditor.policy import Policy
from auditor.queries import run_query
from auditor.report import render_reports
from auditor.tables import TABLES
from auditor.warehouse import Warehouse
from report_html import read

UTC = timezone.utc
OCT_1 = datetime(2026, 10, 1, tzinfo=UTC)

# --- the statement, on hand-made per-day rows --------------------------------------


def _relation(table: str, columns: list[str], rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([TABLES[table].schema.field(c) for c in columns])
    return pa.Table.from_pylist(rows, schema=schema)


#: The lower bound's twin of each daily_usage column (issue 11).
TWINS = {"peak_seats_min": "peak_seats", "seconds_over_limit_min": "seconds_over_limit",
         "certain_breach_count": "breach_count", "in_certain_breach_at_start": "in_breach_at_start"}


def day(d: int, **facts: Any) -> dict[str, Any]:
    """A daily_usage row of instance i on 2026-10-D: nothing happened but FACTS; a log's day, so every
    lower-bound twin equals its column unless FACTS names it."""
    row = {"instance": "i", "day": date(2026, 10, d), "peak_seats": 1, "peak_at": OCT_1 + timedelta(days=d - 1),
           "seconds_over_limit": 0.0, "seconds_at_limit": 0.0, "seconds_unlicensed": 0.0, "breach_count": 0,
           "in_breach_at_start": False, "denials": 0, **facts}
    return {**{twin: row[column] for twin, column in TWINS.items()}, **row}


def verdict(days: list[dict], levels: list[tuple[int, float]] = (), *, limit: int | None = 3, plan_maximum: int = 35,
            first: int = 1, tolerance: timedelta = timedelta(0), findings: list[tuple[date, int]] = ()) -> dict[str, Any]:
    """The verdict on instance i over [2026-10-FIRST, 2026-11-01), UTC; LEVELS: (seats, seconds) on its first day;
    FINDINGS: (local day, peak_seats_implied) of each licence-term finding."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    start = OCT_1 + timedelta(days=first - 1)
    con.register("v_periods", pa.Table.from_pylist([{
        "instance": "i", "timezone": "UTC", "first_day": start.date(), "end_day": date(2026, 11, 1),
        "period_start": start, "period_end": datetime(2026, 11, 1, tzinfo=UTC)}]))
    con.register("v_daily", _relation("daily_usage", list(days[0]) if days else ["instance", "day"], days))
    con.register("v_levels", _relation("daily_levels", ["instance", "day", "seats_in_use", "in_use_us"], [
        {"instance": "i", "day": start.date(), "seats_in_use": seats, "in_use_us": round(s * 1e6)} for seats, s in levels]))
    ents = [] if limit is None else [{
        "instance": "i", "customer": "C", "plan": "small-business-basic", "extra_sessions": limit - 3, "seat_limit": limit,
        "plan_maximum": plan_maximum, "valid_from_ts": datetime(2026, 1, 1, tzinfo=UTC), "valid_to_ts": None}]
    con.register("v_entitlements", _relation("entitlements", ["instance", "customer", "plan", "extra_sessions", "seat_limit",
                                                              "plan_maximum", "valid_from_ts", "valid_to_ts"], ents))
    con.register("v_coverage", _relation("daily_coverage", ["instance", "day", "covered_seconds"], []))  # no polls
    con.register("v_finding_days", _relation("findings", ["instance", "day", "peak_seats_implied"], [
        {"instance": "i", "day": d, "peak_seats_implied": n} for d, n in findings]))
    run_query(con, "audit/verdict", {"tolerance_us": tolerance // timedelta(microseconds=1)})
    cursor = con.execute("SELECT * FROM v_verdict")
    (row,) = cursor.fetchall()
    return dict(zip([d[0] for d in cursor.description], row))


@pytest.mark.parametrize(
    ("levels", "tolerance_s", "expected"),
    [
        ([], 0, 0),
        ([(1, 10.0), (3, 5.0)], 0, 3),
        ([(1, 10.0), (3, 5.0)], 5, 1),  # 5 s above one seat: within a tolerance of 5 s
        ([(1, 10.0), (3, 5.0)], 4.9, 3),
        ([(1, 10.0), (3, 5.0)], 15, 0),  # all the time in use is within the tolerance
    ],
)
def test_the_recommended_limit_leaves_at_most_the_tolerance_over_it(levels, tolerance_s, expected):
    v = verdict([day(1, peak_seats=max((s for s, _ in levels), default=0))], levels, tolerance=timedelta(seconds=tolerance_s))
    assert v["recommended_seat_limit"] == expected
    assert (v["recommended_extra_sessions"], v["sessions_to_add"]) == (max(expected - 3, 0), max(expected - 3, 0))


def test_a_breach_in_progress_at_the_period_start_counts_once():
    # One breach from before 1 Oct into 2 Oct, another starting on 3 Oct.
    days = [day(1, peak_seats=4, seconds_over_limit=86400.0, in_breach_at_start=True),
            day(2, peak_seats=4, seconds_over_limit=60.0, in_breach_at_start=True),
            day(3, peak_seats=4, seconds_over_limit=60.0, breach_count=1)]
    assert [(v["breach_count"], v["seconds_over_limit"], v["status"]) for v in (
        verdict(days, first=1), verdict(days, first=2), verdict(days, first=3), verdict(days, first=4))] == [
        (2, 86520.0, "breach"), (2, 120.0, "breach"), (1, 60.0, "breach"), (0, 0.0, "compliant")]


@pytest.mark.parametrize(
    ("facts", "limit", "expected"),
    [
        ({"peak_seats": 3, "seconds_at_limit": 1.0}, 3, ("compliant", True, True)),
        ({"peak_seats": 2}, 3, ("compliant", False, True)),
        ({"peak_seats": 4, "seconds_over_limit": 1.0, "breach_count": 1}, 3, ("breach", False, True)),
        ({"peak_seats": 36, "seconds_over_limit": 1.0, "breach_count": 1}, 3, ("beyond_plan_maximum", False, False)),
        ({"peak_seats": 40, "seconds_unlicensed": 1.0}, None, ("unlicensed", False, None)),
    ],
)
def test_status_limit_reached_and_the_plan_maximum(facts, limit, expected):
    v = verdict([day(5, **facts)], [(facts["peak_seats"], 1.0)], limit=limit)
    assert (v["status"], v["limit_reached"], v["fits_plan_maximum"]) == expected
    assert v["peak_seats"] == v["recommended_seat_limit"] == facts["peak_seats"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # only the upper bound over the limit: a possible breach
        ({"peak_seats": 5, "peak_seats_min": 3, "seconds_over_limit": 600.0, "seconds_over_limit_min": 0.0,
          "breach_count": 1, "certain_breach_count": 0}, ("possible_breach", 3, 0.0, 0)),
        ({"peak_seats": 5, "peak_seats_min": 4, "seconds_over_limit": 600.0, "seconds_over_limit_min": 60.0,
          "breach_count": 2, "certain_breach_count": 1}, ("breach", 4, 60.0, 1)),
        # beyond the plan maximum only when the lower bound is
        ({"peak_seats": 36, "peak_seats_min": 35, "seconds_over_limit": 1.0, "seconds_over_limit_min": 1.0,
          "breach_count": 1}, ("breach", 35, 1.0, 1)),
    ],
)
def test_a_polled_period_is_judged_by_its_bounds(facts, expected):
    v = verdict([day(5, **facts)], [(facts["peak_seats"], 600.0)])
    assert (v["status"], v["peak_seats_min"], v["seconds_over_limit_min"], v["certain_breach_count"]) == expected
    assert v["recommended_seat_limit"] == facts["peak_seats"]  # the recommendation follows the upper bound
    assert v["coverage"] == 1.0  # no daily_coverage rows: not polled


# --- both callers, on the same audited events ---------------------------------------

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
ENTITLEMENTS = "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n" + "".join(
    f"{name},{name.title()} Ltd,small-business-basic,0,2026-10-01,,UTC,am\n" for name in ("full", "spare", "peaky"))


def session(inst: str, sid: str, start_min: int, end_min: int, seats: int = 1) -> list[dict]:
    base = {"instance": inst, "session_id": sid, "seats": seats, "user": sid}
    events = [{**base, "ts": T0 + timedelta(minutes=start_min), "event": "login"}]
    events += [{**base, "ts": T0 + timedelta(minutes=m), "event": "request"} for m in range(start_min + 10, end_min, 10)]
    return [*events, {**base, "ts": T0 + timedelta(minutes=end_min), "event": "logout"}]


def events() -> list[dict]:
    """full: 3 seats against 3 for an hour; spare: 2 against 3; peaky: 2 seats for 2 hours, 4 for 10 minutes."""
    out = [e for i in range(3) for e in session("full", f"f{i}", 0, 60)]
    out += [e for i in range(2) for e in session("spare", f"s{i}", 0, 60)]
    out += session("peaky", "a", 0, 120) + session("peaky", "b", 0, 120) + session("peaky", "c", 60, 70, seats=2)
    return out


def audited(root: Path, **options: Any) -> Warehouse:
    wh = Warehouse.open(root / "wh", create=True)
    reference.write_events(wh, events())
    (root / "entitlements.csv").write_text(ENTITLEMENTS)
    run_audit(wh, entitlements=root / "entitlements.csv", **options)
    return wh


def summary(wh: Warehouse) -> dict[str, dict]:
    return {r["instance"]: r for r in reference.read_table(wh, "instance_summary")}


def report(wh: Warehouse, out: Path, instance: str, **options: Any):
    render_reports(wh, out, period="2026-10", instances=[instance], **options)
    _html, index = read(out / "index.html")
    _html, page = read(out / instance / "2026-10.html")
    return {a["data-instance"]: a["data-status"] for a in index.attrs("tr") if "data-instance" in a}, page


@pytest.fixture(scope="module")
def default_audit(tmp_path_factory) -> Warehouse:
    return audited(tmp_path_factory.mktemp("verdict"))


def test_an_instance_exactly_at_its_limit_is_at_the_limit_in_the_summary_and_the_overview(default_audit, tmp_path):
    rows = summary(default_audit)
    assert {n: (r["status"], r["limit_reached"]) for n, r in rows.items()} == {
        "full": ("compliant", True), "spare": ("compliant", False), "peaky": ("breach", False)}
    statuses, page = report(default_audit, tmp_path / "out", "full")
    assert statuses == {"full": "at_limit", "spare": "compliant", "peaky": "breach"}
    assert "You reached your limit" in page.ids["verdict"]


def test_a_tolerance_changes_the_recommendation_in_the_summary_and_the_report(default_audit, tmp_path):
    peaky = summary(default_audit)["peaky"]
    assert (peaky["recommended_seat_limit"], peaky["recommended_extra_sessions"]) == (4, 1)
    _statuses, page = report(default_audit, tmp_path / "zero", "peaky")
    assert "you need 4 concurrent sessions, 1 more than your current 3" in page.ids["recommendation"]

    # 10 minutes at 4 seats: a tolerance of 15 minutes leaves them over the limit, and 2 seats suffice.
    tolerant = audited(tmp_path / "tol", tolerance=timedelta(minutes=15))
    peaky = summary(tolerant)["peaky"]
    assert (peaky["recommended_seat_limit"], peaky["recommended_extra_sessions"], peaky["status"]) == (2, 0, "breach")
    _statuses, page = report(tolerant, tmp_path / "tolerant", "peaky")  # the audit's tolerance
    assert "you need" not in page.ids["recommendation"] and "We recommend adding" not in page.ids["recommendation"]
    assert "were exceeded for 10 min in the period, within the 15 min over the limit we accept" in page.ids["recommendation"]
    assert "to spare" not in page.ids["recommendation"]
    _statuses, page = report(tolerant, tmp_path / "strict", "peaky", tolerance=timedelta(0))
    assert "you need 4 concurrent sessions" in page.ids["recommendation"]


def test_a_report_states_the_policy_the_audit_used(default_audit, tmp_path):
    _statuses, page = report(default_audit, tmp_path / "default", "spare")
    assert "until 20 minutes after its last request" in page.text
    policy = Policy(idle_timeout=timedelta(minutes=30), absolute_expiry={"client_credentials": timedelta(hours=2)})
    wh = audited(tmp_path / "p", policy=policy)
    _statuses, page = report(wh, tmp_path / "out", "spare")
    assert "until 30 minutes after its last request" in page.text
    assert "Service sessions (client credentials) end 120 minutes after they open" in page.text


def test_findings_of_the_period_count_and_raise_the_implied_peak_only_where_higher():
    days = [day(d, peak_seats=4) for d in range(5, 8)]
    plain = verdict(days, first=5)
    assert (plain["findings"], plain["peak_seats_implied"]) == (0, 4)
    # one finding before the period, two in it: one implying fewer seats than the counted peak
    v = verdict(days, first=5, findings=[(date(2026, 10, 4), 9), (date(2026, 10, 5), 3), (date(2026, 10, 7), 6)])
    assert (v["findings"], v["peak_seats_implied"], v["peak_seats"]) == (2, 6, 4)
    assert v["status"] == plain["status"] == "compliant"  # a finding is reported beside the verdict, never changes it
