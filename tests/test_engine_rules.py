"""Each numbered session rule, the sweep and the daily figures, with the numbers spelled out."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path


import reference
from auditor.state import Span
from auditor.audit import run_audit
from auditor.warehouse import Warehouse

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=timezone.utc)
HEADER = "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(minutes: float, event: str, sid: str | None = "s1", inst: str = "acme", **kw) -> dict:
    row = {"ts": at(minutes), "instance": inst, "event": event, "session_id": sid, "seats": 1,
           "user": "ann", "user_type": "INT", "device": "pc1", "app": "web", "auth_flow": None, "reason": None}
    row.update(kw)
    return row


def audit(tmp: Path, events: list[dict], entitlements: str | None = None, **options) -> tuple[Warehouse, dict]:
    wh = Warehouse.open(tmp / "wh", create=True)
    reference.write_events(wh, events)
    path = None
    if entitlements is not None:
        path = tmp / "entitlements.csv"
        path.write_text(HEADER + entitlements)
    result = run_audit(wh, entitlements=path, **options)
    tables = {t: exact(t, reference.read_table(wh, t))
              for t in ("sessions", "usage_steps", "breaches", "daily_usage", "instance_summary")}
    tables["result"] = result
    return wh, tables


#: Per table, the lower bound's columns and what a log's exact data makes each equal.
LOG_TWINS = {
    "sessions": {"end_ts_min": "end_ts"},
    "usage_steps": {"seats_in_use_min": "seats_in_use"},
    "breaches": {"certain_seconds": "duration_s"},
    "daily_usage": {"peak_seats_min": "peak_seats", "seconds_over_limit_min": "seconds_over_limit",
                    "certain_breach_count": "breach_count", "in_certain_breach_at_start": "in_breach_at_start"},
    "instance_summary": {"peak_seats_min": "peak_seats", "seconds_over_limit_min": "seconds_over_limit",
                         "certain_breach_count": "breach_count"},
}


def exact(table: str, rows: list[dict]) -> list[dict]:
    """ROWS without the bounds' columns, after checking that logs make them equal their twins."""
    for row in rows:
        for bound, twin in LOG_TWINS[table].items():
            assert row.pop(bound) == row[twin], (table, bound, row)
        if table == "breaches":
            assert row.pop("certain") is True
        if table == "sessions":
            assert row.pop("source") == "log"
            reason = row.pop("uncounted_reason")
            assert reason == (None if row["counted"] else f"user type {row['user_type'] or ''}")
        if table == "instance_summary":
            assert row.pop("coverage") == 1.0
    return rows


def segs(tables: dict, sid: str = "s1") -> list[tuple]:
    return [
        (s["segment"], s["start_ts"], s["end_ts"], s["end_reason"], s["start_inferred"])
        for s in tables["sessions"]
        if s["session_id"] == sid
    ]


# --- rule 1: opening ------------------------------------------------------------

def test_rule1_request_opens_an_inferred_segment_login_inside_is_activity_orphan_logout_ends_nothing(tmp_path):
    events = [ev(0, "logout"), ev(1, "request"), ev(10, "login"), ev(25, "request"), ev(26, "logout"), ev(27, "logout")]
    _, t = audit(tmp_path, events + [ev(200, "login", "other")])
    # the logout at 0 ends nothing; the request at 1 opens (start inferred); the login at 10
    # and the request at 25 extend it; the logout at 26 ends it; the one at 27 ends nothing.
    assert segs(t) == [(1, at(1), at(26), "logout", True)]


# --- rule 2: ending -----------------------------------------------------------------

def test_rule2_idle_timeout_and_a_request_exactly_20_minutes_later_opens_a_new_segment(tmp_path):
    events = [ev(0, "login"), ev(19, "request"), ev(39, "request"), ev(80, "request"), ev(300, "login", "later")]
    _, t = audit(tmp_path, events)
    assert segs(t) == [
        (1, at(0), at(39), "idle_timeout", False),  # 19 + 20 = 39: the request at 39 is not part of it
        (2, at(39), at(59), "idle_timeout", True),
        (3, at(80), at(100), "idle_timeout", True),
    ]


def test_rule2_logout_after_the_timeout_ends_nothing(tmp_path):
    events = [ev(0, "login"), ev(30, "logout"), ev(300, "login", "later")]
    _, t = audit(tmp_path, events)
    assert segs(t) == [(1, at(0), at(20), "idle_timeout", False)]


def test_rule2_client_credentials_expire_one_hour_after_opening(tmp_path):
    events = [ev(0, "login", auth_flow="client_credentials")]
    events += [ev(m, "request") for m in range(10, 151, 10)]  # every 10 minutes until 150
    _, t = audit(tmp_path, events + [ev(600, "login", "later")])
    assert segs(t) == [
        (1, at(0), at(60), "absolute_expiry", False),
        (2, at(60), at(120), "absolute_expiry", True),  # the request at 60 opens the next one
        (3, at(120), at(170), "idle_timeout", True),  # last request 150 + 20
    ]
    assert {s["auth_flow"] for s in t["sessions"] if s["session_id"] == "s1"} == {"client_credentials"}


def test_rule2_restart_strictly_after_opening_ends_the_segment(tmp_path):
    events = [
        ev(0, "restart", None),  # at the same instant as the login: does not end it
        ev(0, "login"),
        ev(10, "request"),
        ev(15, "restart", None),  # ends it at 15
        ev(15, "request"),  # at the restart: opens a new segment
        ev(16, "logout"),
        ev(300, "login", "later"),
    ]
    _, t = audit(tmp_path, events)
    assert segs(t) == [(1, at(0), at(15), "restart", False), (2, at(15), at(16), "logout", True)]


def test_rule2_first_deadline_wins_and_equal_times_keep_rule_order(tmp_path):
    # login, request and logout at one instant: the logout comes last and ends a
    # zero-length segment
    events = [ev(5, "logout"), ev(5, "request"), ev(5, "login"), ev(300, "login", "later")]
    _, t = audit(tmp_path, events)
    assert segs(t) == [(1, at(5), at(5), "logout", False)]
    assert t["usage_steps"] == [
        {"instance": "acme", "step_start": at(300), "step_end": at(320), "seats_in_use": 1, "seat_limit": None}
    ]


# --- rule 3: session attributes and uncounted users ------------------------------------

def test_rule3_seats_are_the_sessions_largest_and_apply_to_every_segment(tmp_path):
    events = [ev(0, "login", seats=1, user_type=None), ev(5, "request", seats=3, user_type="APP"),
              ev(60, "request", seats=2), ev(300, "login", "later")]
    _, t = audit(tmp_path, events)
    rows = [s for s in t["sessions"] if s["session_id"] == "s1"]
    assert [(r["segment"], r["seats"], r["user_type"]) for r in rows] == [(1, 3, "APP"), (2, 3, "APP")]
    assert [(s["step_start"], s["step_end"], s["seats_in_use"]) for s in t["usage_steps"][:2]] == [
        (at(0), at(25), 3), (at(60), at(80), 3)
    ]


def test_rule3_virtual_users_are_kept_but_never_counted(tmp_path):
    events = [ev(0, "login", "v", user_type="VIR", seats=5), ev(0, "login", "s1"), ev(10, "logout", "s1"), ev(10, "logout", "v")]
    _, t = audit(tmp_path, events, "acme,Acme,small-business-basic,0,2026-10-01,,UTC,am\n")
    assert [(s["session_id"], s["counted"]) for s in t["sessions"]] == [("s1", True), ("v", False)]
    assert [(s["seats_in_use"], s["seat_limit"]) for s in t["usage_steps"]] == [(1, 3)]
    assert t["breaches"] == []


# --- rule 4: half-open intervals ------------------------------------------------------------

def test_rule4_back_to_back_segments_never_overlap_and_zero_length_counts_nothing(tmp_path):
    events = [ev(0, "login", "a"), ev(10, "logout", "a"), ev(10, "login", "b"), ev(20, "logout", "b"),
              ev(15, "login", "z"), ev(15, "logout", "z")]
    _, t = audit(tmp_path, events, "acme,Acme,small-business-basic,0,2026-10-01,,UTC,am\n")
    # one seat from 0 to 20 without a break: a at [0,10), b at [10,20); z is [15,15)
    assert [(s["step_start"], s["step_end"], s["seats_in_use"]) for s in t["usage_steps"]] == [(at(0), at(20), 1)]
    assert t["daily_usage"][0]["sessions"] == 2


# --- rule 5: open segments -------------------------------------------------------------------

def test_rule5_deadline_beyond_the_latest_event_is_open_until_newer_data(tmp_path):
    events = [ev(0, "login"), ev(5, "request"), ev(10, "login", "b", inst="zeta")]
    _, t = audit(tmp_path, events)
    assert segs(t) == [(1, at(0), at(25), "open", False)]
    # an event at 25 anywhere in the warehouse (another instance) closes the question
    _, t2 = audit(tmp_path / "2", events + [ev(25, "login", "c", inst="zeta")])
    assert segs(t2) == [(1, at(0), at(25), "idle_timeout", False)]


# --- the sweep, breaches, days ---------------------------------------------------------------

def test_breach_with_limit_three(tmp_path):
    # basic plan: limit 3. Four sessions, one with 2 seats.
    events = [
        ev(0, "login", "a"), ev(15, "request", "a"), ev(30, "logout", "a"),
        ev(5, "login", "b", seats=2), ev(20, "logout", "b"),
        ev(10, "login", "c"), ev(15, "logout", "c"),
        ev(12, "login", "d"), ev(25, "request", "d"), ev(40, "logout", "d"),
    ]
    _, t = audit(tmp_path, events, "acme,Acme,small-business-basic,0,2026-10-01,,UTC,am\n")
    assert [(s["step_start"], s["step_end"], s["seats_in_use"]) for s in t["usage_steps"]] == [
        (at(0), at(5), 1), (at(5), at(10), 3), (at(10), at(12), 4), (at(12), at(15), 5),
        (at(15), at(20), 4), (at(20), at(30), 2), (at(30), at(40), 1),
    ]
    assert t["breaches"] == [
        {"instance": "acme", "breach_start": at(10), "breach_end": at(20), "duration_s": 600.0, "peak_seats": 5,
         "peak_at": at(12), "seat_limit": 3, "max_excess": 2}
    ]
    day = t["daily_usage"][0]
    assert (day["peak_seats"], day["peak_at"], day["seconds_over_limit"], day["breach_count"], day["sessions"]) == (
        5, at(12), 600.0, 1, 4)
    summary = t["instance_summary"][0]
    assert (summary["status"], summary["peak_seats"], summary["recommended_seat_limit"],
            summary["recommended_extra_sessions"], summary["fits_plan_maximum"]) == ("breach", 5, 5, 2, True)
    # 40 minutes in use: 1 seat 15 min, 2 for 10, 3 for 5, 4 for 7, 5 for 3. 95% of 40 = 38 min
    # is first reached at 4 seats (37 min at <= 4 is not enough) -> p95 is 5.
    assert summary["p95_seats"] == 5
    # with a tolerance of 3 minutes, 4 seats suffice (only 3 minutes above 4)
    _, t2 = audit(tmp_path / "tol", events, "acme,Acme,small-business-basic,0,2026-10-01,,UTC,am\n",
                  tolerance=timedelta(minutes=3))
    assert t2["instance_summary"][0]["recommended_seat_limit"] == 4


def test_dst_day_in_sofia_has_25_hours_and_levels_carry_over_midnight(tmp_path):
    # 2026-10-25 in Europe/Sofia: clocks go back 04:00 -> 03:00; the day is
    # [2026-10-24 21:00Z, 2026-10-25 22:00Z). A service session runs across both midnights.
    start = datetime(2026, 10, 24, 20, 30, tzinfo=timezone.utc)
    events = [{"ts": start + timedelta(minutes=m), "instance": "acme", "event": "request", "session_id": "svc",
               "seats": 1, "user": "svc", "user_type": "APP", "device": "srv", "app": "api", "auth_flow": None,
               "reason": None} for m in range(0, 26 * 60 + 1, 10)]
    ents = "acme,Acme,small-business-basic,0,2026-10-01,2026-10-25,Europe/Sofia,am\n" \
           "acme,Acme,small-business-advanced,0,2026-10-25,,Europe/Sofia,am\n"
    _, t = audit(tmp_path, events, ents)
    days = [(d["day"], d["peak_seats"], d["peak_at"], d["seat_limit"], d["sessions"]) for d in t["daily_usage"]]
    assert days == [
        (date(2026, 10, 24), 1, start, 3, 1),  # limit at the day's end: the basic row (valid_to is exclusive)
        (date(2026, 10, 25), 1, datetime(2026, 10, 24, 21, 0, tzinfo=timezone.utc), 5, 1),  # peak at the day's start
        (date(2026, 10, 26), 1, datetime(2026, 10, 25, 22, 0, tzinfo=timezone.utc), 5, 1),
    ]
    # the step is split where the limit changes (local midnight of the 25th = 21:00Z)
    assert [(s["step_start"], s["seat_limit"]) for s in t["usage_steps"]] == [
        (start, 3), (datetime(2026, 10, 24, 21, 0, tzinfo=timezone.utc), 5)
    ]


def test_days_carry_a_breach_over_local_midnight_and_time_at_and_without_a_limit(tmp_path):
    # Europe/Sofia is UTC+3 in early October: local midnight of 6 Oct is 5 Oct 21:00Z.
    # acme: 4 seats against 3 from 23:30 to 00:30 local, one breach over midnight.
    # beta: 5 seats from 23:30 to 00:30 while its limit rises from 3 to 4 at midnight: the
    # usage step splits there, the breach does not. gamma: 3 seats, no entitlement until
    # midnight and a limit of 3 after it.
    def svc(inst: str, seats: int) -> list[dict]:
        return [ev(12 * 60 + 30 + m, "request", "svc", inst=inst, seats=seats) for m in range(0, 60, 10)] + [
            ev(13 * 60 + 30, "logout", "svc", inst=inst)]
    ents = ("acme,Acme,small-business-basic,0,2026-10-01,,Europe/Sofia,am\n"
            "beta,Beta,small-business-basic,0,2026-10-01,2026-10-06,Europe/Sofia,am\n"
            "beta,Beta,small-business-basic,1,2026-10-06,,Europe/Sofia,am\n"
            "gamma,Gamma,small-business-basic,0,2026-10-06,,Europe/Sofia,am\n")
    wh, t = audit(tmp_path, svc("acme", 4) + svc("beta", 5) + svc("gamma", 3), ents)
    days = {(d["instance"], d["day"].day): (d["seconds_over_limit"], d["breach_count"], d["in_breach_at_start"],
                                            d["seconds_at_limit"], d["seconds_unlicensed"]) for d in t["daily_usage"]}
    assert days == {
        ("acme", 5): (1800.0, 1, False, 0.0, 0.0), ("acme", 6): (1800.0, 0, True, 0.0, 0.0),
        ("beta", 5): (1800.0, 1, False, 0.0, 0.0), ("beta", 6): (1800.0, 0, True, 0.0, 0.0),
        ("gamma", 5): (0.0, 0, False, 0.0, 1800.0), ("gamma", 6): (0.0, 0, False, 1800.0, 0.0),
    }
    assert [(b["instance"], b["breach_start"], b["breach_end"]) for b in t["breaches"]] == [
        ("acme", at(12 * 60 + 30), at(13 * 60 + 30)), ("beta", at(12 * 60 + 30), at(13 * 60 + 30))]
    # A period from 6 Oct holds the second half of each breach: it counts, as the time over the limit does.
    run_audit(wh, period_from=date(2026, 10, 6), period_to=date(2026, 10, 7))
    summary = {s["instance"]: (s["status"], s["breach_count"], s["seconds_over_limit"], s["limit_reached"],
                               s["seconds_in_use"], s["seconds_unlicensed"]) for s in reference.read_table(wh, "instance_summary")}
    assert summary == {"acme": ("breach", 1, 1800.0, False, 1800.0, 0.0), "beta": ("breach", 1, 1800.0, False, 1800.0, 0.0),
                       "gamma": ("compliant", 0, 0.0, True, 1800.0, 0.0)}
    run_audit(wh, period_from=date(2026, 10, 5), period_to=date(2026, 10, 6))
    gamma = {s["instance"]: s for s in reference.read_table(wh, "instance_summary")}["gamma"]
    assert (gamma["status"], gamma["limit_reached"], gamma["seconds_unlicensed"]) == ("unlicensed", False, 1800.0)


def test_instance_without_entitlement_is_audited_as_unlicensed(tmp_path):
    events = [ev(0, "login"), ev(10, "logout"), ev(0, "login", "x", inst="nolicence"), ev(3, "login_failed", None, inst="nolicence")]
    _, t = audit(tmp_path, events, "acme,Acme,small-business-basic,0,2026-10-01,,UTC,am\n")
    rows = {s["instance"]: s for s in t["instance_summary"]}
    assert rows["acme"]["status"] == "compliant"
    assert (rows["nolicence"]["status"], rows["nolicence"]["seat_limit"], rows["nolicence"]["denials"],
            rows["nolicence"]["recommended_seat_limit"]) == ("unlicensed", None, 1, 1)
    assert [d["denials"] for d in t["daily_usage"] if d["instance"] == "nolicence"] == [1]


def test_peak_beyond_the_plan_maximum(tmp_path):
    plans = tmp_path / "plans.toml"
    plans.write_text("[plans.mini]\nbase_sessions = 1\nmax_sessions = 2\n")
    events = [ev(0, "login", f"s{i}") for i in range(3)] + [ev(5, "logout", f"s{i}") for i in range(3)]
    _, t = audit(tmp_path, events, "acme,Acme,mini,1,2026-10-01,,UTC,am\n", plans=plans)
    s = t["instance_summary"][0]
    assert (s["status"], s["seat_limit"], s["plan_maximum"], s["recommended_seat_limit"],
            s["recommended_extra_sessions"], s["fits_plan_maximum"]) == ("beyond_plan_maximum", 2, 2, 3, 2, False)


def test_rerun_replaces_results_and_clears_pending_audit(tmp_path):
    events = [ev(0, "login"), ev(10, "logout")]
    wh, t = audit(tmp_path, events)
    with wh.transaction() as tx:
        tx.state.add_pending({"acme": Span(at(0), at(10))})
    run_audit(wh)
    assert len(reference.read_table(wh, "sessions")) == 1
    assert not wh.state().pending_audit


def test_entitlements_are_stored_and_reused(tmp_path):
    events = [ev(0, "login"), ev(10, "logout")]
    wh, t = audit(tmp_path, events, "acme,Acme,small-business-advanced,2,2026-10-01,,UTC,am\n")
    assert t["instance_summary"][0]["seat_limit"] == 7
    run_audit(wh)  # no --entitlements: the stored ones apply
    assert reference.read_table(wh, "instance_summary")[0]["seat_limit"] == 7
    assert reference.read_table(wh, "entitlements")[0]["source_line"] == 2


def test_period_limits_the_summary(tmp_path):
    events = [ev(0, "login"), ev(10, "logout"), ev(24 * 60, "login", "b"), ev(24 * 60 + 30, "logout", "b"),
              ev(24 * 60, "login", "c"), ev(24 * 60 + 30, "logout", "c")]
    _, t = audit(tmp_path, events, period_from=date(2026, 10, 5), period_to=date(2026, 10, 6))
    s = t["instance_summary"][0]
    assert (s["peak_seats"], s["period_start"], s["period_end"]) == (
        1, datetime(2026, 10, 5, tzinfo=timezone.utc), datetime(2026, 10, 6, tzinfo=timezone.utc))
    assert len(t["daily_usage"]) == 2  # the detail tables keep all the data
