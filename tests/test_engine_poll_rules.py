"""Each rule for polled data, with the numbers spelled out (times are minutes after 08:00 UTC, 2 Nov 2026).

Polls and audit-log rows go into the warehouse as ingest stores them; the engine's
tables are read back. Instance acme has 1 seat (plan tiny) in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

import reference
from auditor.audit import reaudit_pending, run_audit
from auditor.warehouse import Warehouse
from poll_strategies import COLLECTOR_APP, COLLECTOR_USER, add_polled, poll_record
from test_engine_properties import _write_inputs

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
WEB = "ERP.net Web Client"
IDLE = timedelta(minutes=20)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def row(sid: str | None = "s1", start: float = 0, user: str = "mia", last: float | None = None,
        expires: float | None = None, app: str | None = WEB, device: str | None = "LAPTOP-7") -> dict:
    """A session as the view lists it (the poll's instance and time are filled in by `polled`)."""
    return {"session_id": sid, "user": user, "start_time": at(start),
            "last_request_time": None if last is None else at(last),
            "absolute_expiration_time": None if expires is None else at(expires), "applications": app, "device": device}


def polled(minutes: float, *rows: dict, ok: bool = True, inst: str = "acme") -> tuple[dict, list[dict]]:
    """A successful poll at MINUTES listing ROWS (or, not OK, a failed one)."""
    listed = [{**r, "instance": inst, "polled_at": at(minutes)} for r in rows]
    return poll_record(inst, at(minutes), listed if ok else None), listed if ok else []


def entry(minutes: float, event_type: str, user: str | None = "mia", details: str | None = None, entry_id: str = "",
          inst: str = "acme", seconds: float = 0) -> dict:
    return {"instance": inst, "id": entry_id or f"{event_type}-{minutes}-{seconds}-{user}",
            "event_time": at(minutes) + timedelta(seconds=seconds), "event_class": "Authentication",
            "event_type": event_type, "application_name": WEB, "details": details, "user": user}


def audit(tmp: Path, observations: list, log: list[dict] = (), **options) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    ent_path, plans_path, _ = _write_inputs(tmp, [("acme", date(2026, 10, 1), None, "UTC", 0)])
    wh = Warehouse.open(tmp / "wh", create=True)
    add_polled(wh, observations, list(log))
    run_audit(wh, entitlements=ent_path, plans=plans_path, **options)
    return tables(wh)


def tables(wh: Warehouse) -> dict:
    names = ("sessions", "usage_steps", "breaches", "daily_usage", "instance_summary", "coverage_gaps", "daily_coverage")
    return {t: reference.read_table(wh, t) for t in names}


def ends(t: dict) -> list[tuple]:
    """(session_id, start, earliest end, latest end, end_reason) of every session."""
    return [(s["session_id"], s["start_ts"], s["end_ts_min"], s["end_ts"], s["end_reason"]) for s in t["sessions"]]


def steps(t: dict) -> list[tuple]:
    return [(s["step_start"], s["step_end"], s["seats_in_use_min"], s["seats_in_use"]) for s in t["usage_steps"]]


# --- rule 1: identity --------------------------------------------------------------

def test_rule1_a_session_id_is_one_session_across_polls(tmp_path):
    t = audit(tmp_path, [polled(0, row("s1", start=-3)), polled(5, row("s1", start=-3), row("s2", start=4)), polled(10)])
    assert ends(t) == [("s1", at(-3), at(5), at(10), "vanished"), ("s2", at(4), at(5), at(10), "vanished")]
    assert all(s["source"] == "poll" and s["segment"] == 1 and s["seats"] == 1 for s in t["sessions"])


def test_rule1_without_session_id_an_old_server_names_it_by_user_start_device_applications(tmp_path):
    old = row(None, start=-3, device=None)
    t = audit(tmp_path, [polled(0, old), polled(5, old, row(None, start=2)), polled(10, row(None, start=2))])
    assert [s["session_id"] for s in t["sessions"]] == [
        "mia|2026-11-02T07:57:00.000000Z||ERP.net Web Client",  # no Device: an empty part
        "mia|2026-11-02T08:02:00.000000Z|LAPTOP-7|ERP.net Web Client",
    ]
    assert [(s["end_ts_min"], s["end_ts"]) for s in t["sessions"]] == [(at(5), at(10)), (at(10), at(2) + IDLE)]


# --- rule 2: attributes and the collector's own session -------------------------

def test_rule2_attributes_come_from_the_latest_poll_listing_the_session(tmp_path):
    t = audit(tmp_path, [polled(0, row(last=-1, device="OLD")), polled(5, row(last=4, device="NEW")),
                         polled(10, row(last=3, device=None, user="mia2")), polled(15)])
    s = t["sessions"][0]
    assert (s["user"], s["device"], s["app"], s["last_activity_ts"]) == ("mia2", None, WEB, at(4))
    assert (s["user_type"], s["auth_flow"], s["start_inferred"], s["counted"], s["uncounted_reason"]) == (None, None, False, True, None)


def test_rule2_the_collectors_own_session_is_kept_uncounted(tmp_path):
    own = row("c", start=-1, user=COLLECTOR_USER, app=COLLECTOR_APP)
    elsewhere = row("c2", start=-1, user=COLLECTOR_USER, app=WEB)  # the collector's user in the web client counts
    t = audit(tmp_path, [polled(0, own, elsewhere), polled(5, own), polled(10)])
    assert [(s["session_id"], s["counted"], s["uncounted_reason"]) for s in t["sessions"]] == [
        ("c", False, "collector"), ("c2", True, None)]
    assert steps(t) == [(at(-1), at(0), 1, 1), (at(0), at(5), 0, 1)]


# --- rule 3: start, earliest and latest end ----------------------------------------

def test_rule3_start_is_start_time_earliest_end_the_last_poll_listing_latest_the_next_poll(tmp_path):
    t = audit(tmp_path, [polled(0), polled(5, row(start=3)), polled(10, row(start=3)), polled(15), polled(20)])
    assert ends(t) == [("s1", at(3), at(10), at(15), "vanished")]
    assert steps(t) == [(at(3), at(10), 1, 1), (at(10), at(15), 0, 1)]


def test_rule3_a_start_time_after_the_first_poll_listing_it_starts_at_that_poll(tmp_path):
    t = audit(tmp_path, [polled(5, row(start=7)), polled(10)])  # a clock skew: the poll saw it first
    assert ends(t) == [("s1", at(5), at(5), at(10), "vanished")]


def test_rule3_an_absolute_expiry_before_or_at_the_next_poll_ends_it_there(tmp_path):
    listed = [row("early", expires=12), row("equal", expires=15), row("later", expires=16), row("past", expires=7)]
    t = audit(tmp_path, [polled(10, *listed), polled(15)])
    assert ends(t) == [
        ("early", at(0), at(10), at(12), "absolute_expiry"),
        ("equal", at(0), at(10), at(15), "absolute_expiry"),
        ("later", at(0), at(10), at(15), "vanished"),
        ("past", at(0), at(10), at(10), "absolute_expiry"),  # never before it was last seen
    ]


def test_rule3_with_no_later_poll_the_session_is_open_until_its_idle_deadline(tmp_path):
    listed = [row("active", last=8), row("quiet"), row("service", last=9, expires=25), row("stale", start=-40, last=-35)]
    t = audit(tmp_path, [polled(10, *listed)])
    assert ends(t) == [
        ("active", at(0), at(10), at(28), "open"),  # latest request + 20 minutes
        ("quiet", at(0), at(10), at(20), "open"),  # no LastRequestTime: start + 20 minutes
        ("service", at(0), at(10), at(25), "open"),  # its absolute expiry comes first
        ("stale", at(-40), at(10), at(10), "open"),  # the deadline passed: alive until it was last seen
    ]


def test_rule3_a_failed_poll_is_not_a_later_successful_poll(tmp_path):
    t = audit(tmp_path, [polled(0, row()), polled(5, ok=False), polled(10, ok=False), polled(15)])
    assert ends(t) == [("s1", at(0), at(0), at(15), "vanished")]
    assert [(g["gap_start"], g["gap_end"], g["duration_s"]) for g in t["coverage_gaps"]] == [(at(0), at(15), 900.0)]


def test_rule3_a_failed_poll_alone_leaves_the_session_open(tmp_path):
    t = audit(tmp_path, [polled(0, row(last=0)), polled(5, ok=False)])
    assert ends(t) == [("s1", at(0), at(0), at(20), "open")]


def test_duplicate_and_out_of_order_polls_give_the_same_sessions(tmp_path):
    in_order = [polled(0, row()), polled(5, row(), row("s2", start=4)), polled(10, row("s2", start=4)), polled(15)]
    shuffled = [in_order[3], in_order[1], in_order[0], in_order[1], in_order[2], in_order[3]]
    a = audit(tmp_path / "a", in_order)
    b = audit(tmp_path / "b", shuffled)
    assert ends(a) == ends(b) == [("s1", at(0), at(5), at(10), "vanished"), ("s2", at(4), at(10), at(15), "vanished")]
    # the same polls again, another night: nothing new
    wh = Warehouse(tmp_path / "b" / "wh")
    add_polled(wh, in_order, [])
    reaudit_pending(wh)
    assert tables(wh) == b


# --- rule 4: unseen logins ---------------------------------------------------------

def test_rule4_a_login_no_poll_saw_raises_the_upper_bound_until_the_next_poll(tmp_path):
    log = [entry(7, "Login", "bob", entry_id="42"), entry(22, "Login", "cy", entry_id="43")]
    t = audit(tmp_path, [polled(5), polled(10), polled(15)], log)
    assert ends(t) == [("login:42", at(7), at(7), at(10), "unseen"),
                       ("login:43", at(22), at(22), at(42), "open")]  # no later poll: 20 minutes, open
    s = t["sessions"][0]
    assert (s["user"], s["app"], s["device"], s["counted"], s["last_activity_ts"]) == ("bob", WEB, None, True, at(7))
    assert steps(t) == [(at(7), at(10), 0, 1), (at(22), at(42), 0, 1)]


def test_rule4_a_login_within_5_seconds_of_a_polled_session_of_the_user_is_that_session(tmp_path):
    log = [entry(3, "Login", "mia", seconds=4),  # mia's polled session started at 3:00: the same one
           entry(3, "Login", "mia", seconds=-4),
           entry(3, "Login", "mia", seconds=6, entry_id="late"),  # 6 s off: another, unseen session
           entry(3, "Login", "Mia", entry_id="case"),  # another user (logins are case-sensitive)
           entry(3, "Login", COLLECTOR_USER),  # the collector's own logins are never sessions
           entry(3, "Login", None),  # no user: nothing to count
           entry(3, "LogOut", "bob")]
    t = audit(tmp_path, [polled(0), polled(5, row(start=3)), polled(10)], log)
    assert [s["session_id"] for s in t["sessions"]] == ["login:case", "login:late", "s1"]


# --- rule 5: denials ---------------------------------------------------------------

def test_rule5_refused_logins_are_login_failed_for_the_license_count(tmp_path):
    log = [entry(6, "LoginFailed", "eve", "Login failed: MaximumLicenseCountExceeded"),
           entry(7, "LoginFailed", "eve", "Login failed: WrongPassword"),
           entry(8, "LoginFailed", "eve", None),
           entry(4, "Login", "eve", "MaximumLicenseCountExceeded")]  # a login, not a denial
    t = audit(tmp_path, [polled(5, row(start=4, user="eve")), polled(10)], log,
              period_from=date(2026, 11, 2), period_to=date(2026, 11, 3))
    assert [(d["day"], d["denials"]) for d in t["daily_usage"]] == [(date(2026, 11, 2), 1)]
    assert t["instance_summary"][0]["denials"] == 1


# --- coverage and status -----------------------------------------------------------

def test_gaps_between_successful_polls_lower_the_coverage(tmp_path):
    polls = [polled(m, row(start=-1)) for m in range(0, 65, 5)] + [polled(m, row(start=-1)) for m in range(120, 185, 5)]
    polls.insert(3, polled(62, ok=False))
    t = audit(tmp_path, polls + [polled(200, ok=False)], period_from=date(2026, 11, 2), period_to=date(2026, 11, 3))
    assert [(g["gap_start"], g["gap_end"], g["duration_s"]) for g in t["coverage_gaps"]] == [(at(60), at(120), 3600.0)]
    # covered: within 5 minutes of a successful poll, 07:55 to 09:05 and 09:55 to 11:05 (140 minutes) of the day
    assert [(d["day"], d["covered_seconds"]) for d in t["daily_coverage"]] == [(date(2026, 11, 2), 8400.0)]
    assert t["instance_summary"][0]["coverage"] == pytest.approx(8400 / 86400, rel=1e-12)


def test_a_breach_only_the_upper_bound_shows_is_possible_not_certain(tmp_path):
    # a: alive at 0 and 5, gone at 10; b: started at 7, seen at 10 and 15. Both at once only
    # if a outlived the poll at 5: [7, 10) is over the 1 seat in the upper bound only.
    t = audit(tmp_path, [polled(0, row("a")), polled(5, row("a")), polled(10, row("b", start=7)),
                         polled(15, row("b", start=7)), polled(20)],
              period_from=date(2026, 11, 2), period_to=date(2026, 11, 3))
    assert [(b["breach_start"], b["breach_end"], b["peak_seats"], b["certain"], b["certain_seconds"])
            for b in t["breaches"]] == [(at(7), at(10), 2, False, 0.0)]
    d = t["daily_usage"][0]
    assert (d["peak_seats"], d["peak_seats_min"], d["seconds_over_limit"], d["seconds_over_limit_min"],
            d["breach_count"], d["certain_breach_count"]) == (2, 1, 180.0, 0.0, 1, 0)
    s = t["instance_summary"][0]
    assert (s["status"], s["peak_seats"], s["peak_seats_min"], s["breach_count"], s["certain_breach_count"]) == (
        "possible_breach", 2, 1, 1, 0)


def test_a_breach_a_poll_saw_is_certain(tmp_path):
    t = audit(tmp_path, [polled(0, row("a")), polled(5, row("a"), row("b", start=4)), polled(10, row("b", start=4)), polled(15)],
              period_from=date(2026, 11, 2), period_to=date(2026, 11, 3))
    assert [(b["breach_start"], b["breach_end"], b["certain"], b["certain_seconds"]) for b in t["breaches"]] == [
        (at(4), at(10), True, 60.0)]  # both surely alive from 4 to 5, perhaps until 10
    assert t["instance_summary"][0]["status"] == "breach"
