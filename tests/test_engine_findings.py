"""Licence-term findings, kind by kind, and the look-alikes that must not be findings (hand-built inputs)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import reference
from auditor.audit import run_audit
from auditor.warehouse import Warehouse
from poll_strategies import COLLECTOR_APP, COLLECTOR_USER, TrueSession, observe
from test_engine_findings_properties import audit_findings
from test_engine_properties import _write_inputs
from test_engine_rules import at, ev

#: acme on plan tiny (1 seat) + 2 add-ons: a limit of 3, in UTC.
ENTS = [("acme", date(2026, 10, 1), None, "UTC", 2)]


def findings_of(tmp: Path, events: list[dict], ents=ENTS, polled=None) -> tuple[list[dict], dict]:
    """Audit EVENTS (and POLLED instances); the findings table, checked against the reference, and the summaries."""
    wh, _ = audit_findings(tmp, events, ents, polled)
    summary = {r["instance"]: r for r in reference.read_table(wh, "instance_summary")}
    return reference.sort_findings(reference.read_table(wh, "findings")), summary


def busy_others(n: int = 2, hours: int = 10) -> list[dict]:
    """N other people working all day (a request every 10 minutes): the instance is at its limit with one more."""
    out = []
    for k in range(n):
        sid = f"other{k}"
        out.append(ev(-1, "login", sid, user=f"u{k}", device=f"desk{k}"))
        out += [ev(m, "request", sid, user=f"u{k}", device=f"desk{k}") for m in range(0, hours * 60, 10)]
    return out


# --- shared sessions -----------------------------------------------------------------------


def test_one_session_alternating_between_two_devices_is_a_finding(tmp_path) -> None:
    devices = ["LAPTOP-MARIA", "PC-RECEPTION"] * 10
    events = [ev(0, "login", device="LAPTOP-MARIA")] + [ev(3 * (i + 1), "request", device=d) for i, d in enumerate(devices)]
    got, summary = findings_of(tmp_path, events)
    assert [(f["kind"], f["session_id"], f["user"], f["occurrences"], f["seats_implied"]) for f in got] == [
        ("shared_session_devices", "s1", "ann", 19, 2)]
    f = got[0]
    assert (f["first_seen"], f["last_seen"], f["day"]) == (at(6), at(60), date(2026, 10, 5))
    assert f["evidence"] == ("Session s1 was used from the devices LAPTOP-MARIA and PC-RECEPTION: "
                             "the device changed 19 times on 2026-10-05 from 08:06 to 09:00")
    # one seat counted, two used: the implied peak is one more than the counted one
    assert (summary["acme"]["findings"], summary["acme"]["peak_seats"], summary["acme"]["peak_seats_implied"]) == (1, 1, 2)


def test_one_session_naming_three_users_is_a_finding_of_three_seats(tmp_path) -> None:
    events = [ev(0, "login"), ev(5, "request", user="bob"), ev(6, "request", user="cy"), ev(7, "request")]
    got, _ = findings_of(tmp_path, events)
    assert [(f["kind"], f["occurrences"], f["seats_implied"], f["peak_seats_implied"]) for f in got] == [
        ("shared_session_users", 3, 3, 3)]
    assert got[0]["evidence"] == ("Session s1 was used by the users ann, bob and cy: the user changed 3 times "
                                  "on 2026-10-05 from 08:05 to 08:07")


def test_one_user_on_two_devices_in_two_sessions_is_no_finding(tmp_path) -> None:
    events = [ev(0, "login", "s1", device="pc1"), ev(5, "request", "s1", device="pc1"),
              ev(1, "login", "s2", device="laptop"), ev(6, "request", "s2", device="laptop")]
    got, summary = findings_of(tmp_path, events)
    assert got == []
    assert (summary["acme"]["findings"], summary["acme"]["peak_seats_implied"]) == (0, summary["acme"]["peak_seats"])


def test_a_session_whose_device_is_absent_on_some_events_is_no_finding(tmp_path) -> None:
    events = [ev(0, "login", device="pc1"), ev(5, "request", device=None), ev(9, "request", device="pc1"),
              ev(12, "logout", device=None, user=None)]
    assert findings_of(tmp_path, events)[0] == []


def test_the_same_session_id_on_two_devices_in_two_segments_is_no_finding(tmp_path) -> None:
    # a re-login that reuses the session id from another machine, after the first segment ended
    events = [ev(0, "login", device="pc1"), ev(5, "logout", device="pc1"), ev(30, "login", device="laptop"),
              ev(35, "request", device="laptop")]
    assert findings_of(tmp_path, events)[0] == []


def test_virtual_users_are_no_finding(tmp_path) -> None:
    # a portal's virtual user serving many people is never counted; nor are virtual users named in a counted session
    portal = [ev(m, "request", "portal", user=u, user_type="VIR", device=d)
              for m, u, d in [(0, "p1", "web1"), (1, "p2", "web2"), (2, "p3", "web3")]]
    mixed = [ev(0, "login", "s2", user="ann"), ev(3, "request", "s2", user="guest", user_type="VIR"), ev(4, "request", "s2", user="ann")]
    assert findings_of(tmp_path, portal + mixed)[0] == []


def test_an_application_declaring_its_seats_may_name_as_many_users(tmp_path) -> None:
    users = ["a", "b", "c"]
    declared = [ev(i, "request", "app", user=u, seats=3) for i, u in enumerate(users * 2)]
    assert findings_of(tmp_path, declared)[0] == []
    tmp = tmp_path / "more"
    tmp.mkdir()
    got, _ = findings_of(tmp, [ev(i, "request", "app", user=u, seats=3) for i, u in enumerate(users + ["d"])])
    assert [(f["kind"], f["seats_implied"], f["peak_seats_implied"]) for f in got] == [("shared_session_users", 4, 4)]


# --- logout cycling ------------------------------------------------------------------------


def cycling(n: int, gap_s: float, every_min: int = 30, others: int = 2) -> list[dict]:
    """ann on pc1 logs out and back in N times, GAP_S seconds later, every EVERY_MIN minutes, beside OTHERS."""
    events = busy_others(others) + [ev(0, "login", "c0")]
    for k in range(n):
        t = every_min * (k + 1)
        events += [ev(t - 1, "request", f"c{k}"), ev(t, "logout", f"c{k}"), ev(t + gap_s / 60, "login", f"c{k + 1}")]
    return events


def test_five_quick_re_logins_at_the_limit_are_logout_cycling(tmp_path) -> None:
    got, summary = findings_of(tmp_path, cycling(5, 20))
    assert [(f["kind"], f["user"], f["session_id"], f["occurrences"], f["seats_implied"], f["peak_seats_implied"])
            for f in got] == [("logout_cycling", "ann", "", 5, 1, 3)]
    assert (got[0]["first_seen"], got[0]["last_seen"]) == (at(30), at(150) + timedelta(seconds=20))
    assert got[0]["evidence"] == ("ann on pc1 logged out and back in within 60 s 5 times on 2026-10-05 from 08:30 "
                                  "to 10:30, each time with the instance at or above its seat limit")
    assert (summary["acme"]["findings"], summary["acme"]["peak_seats"], summary["acme"]["peak_seats_implied"]) == (1, 3, 3)


def test_four_cycles_are_not_enough(tmp_path) -> None:
    assert findings_of(tmp_path, cycling(4, 20))[0] == []


def test_re_logins_after_several_minutes_are_no_finding(tmp_path) -> None:
    assert findings_of(tmp_path, cycling(8, 61))[0] == []
    tmp = tmp_path / "minutes"
    tmp.mkdir()
    assert findings_of(tmp, cycling(8, 5 * 60))[0] == []


def test_quick_re_logins_far_below_the_limit_are_no_finding(tmp_path) -> None:
    assert findings_of(tmp_path, cycling(8, 20, others=0))[0] == []


def test_a_service_whose_sessions_are_renewed_by_expiry_is_no_finding(tmp_path) -> None:
    service = [ev(m, "request", "svc", user="sync", device="srv1", auth_flow="client_credentials")
               for m in range(0, 8 * 60, 10)]
    assert findings_of(tmp_path, busy_others() + service)[0] == []


# --- parallel requests (polled) ------------------------------------------------------------

BASE = datetime(2026, 11, 2, 8, tzinfo=timezone.utc)


def polled_with(busy: list[tuple[int, int, int]], session_id: str | None = "7f3a") -> dict:
    """One polled instance, polled every 5 minutes for 2 hours; mia's session has BUSY (from_min, to_min, n)."""
    mia = TrueSession("p1", session_id, "mia", BASE, BASE + timedelta(hours=3), device="LAPTOP-7",
                      busy=[(BASE + timedelta(minutes=a), BASE + timedelta(minutes=b), n) for a, b, n in busy])
    collector = TrueSession("p1", None if session_id is None else "col", COLLECTOR_USER, BASE, BASE + timedelta(hours=3),
                            app=COLLECTOR_APP, busy=[(BASE, BASE + timedelta(hours=3), 4)])
    schedule = [(BASE + timedelta(minutes=5 * k, seconds=1), True) for k in range(24)]
    return {"p1": observe("p1", [mia, collector], schedule)}


P_ENTS = [("p1", date(2026, 10, 1), None, "UTC", 2)]


def test_parallel_requests_in_three_polls_of_a_day_are_a_finding(tmp_path) -> None:
    got, summary = findings_of(tmp_path, [], P_ENTS, polled_with([(9, 21, 3)]))
    assert [(f["kind"], f["session_id"], f["user"], f["occurrences"], f["seats_implied"], f["peak_seats_implied"])
            for f in got] == [("parallel_requests", "7f3a", "mia", 3, 3, 3)]
    assert got[0]["evidence"] == ("Session 7f3a of mia on LAPTOP-7 had up to 3 requests in progress at once in 3 polls "
                                  "on 2026-11-02 from 08:10 to 08:20")
    assert (summary["p1"]["findings"], summary["p1"]["peak_seats"], summary["p1"]["peak_seats_implied"]) == (1, 1, 3)


def test_parallel_requests_on_an_old_server_name_no_session(tmp_path) -> None:
    got, _ = findings_of(tmp_path, [], P_ENTS, polled_with([(9, 21, 2)], session_id=None))
    assert [(f["session_id"], f["user"]) for f in got] == [("", "mia")]
    assert got[0]["evidence"].startswith("The session of mia on LAPTOP-7 had up to 2 requests")


def test_parallel_requests_in_two_polls_and_the_collectors_own_are_no_finding(tmp_path) -> None:
    # two polls with 2 requests; one request at a time all along; the collector's own session busy (not counted)
    assert findings_of(tmp_path, [], P_ENTS, polled_with([(9, 16, 2), (30, 90, 1)]))[0] == []


# --- incremental audits ----------------------------------------------------------------------


def nightly_findings(tmp: Path, nights: list[list[dict]], ents=ENTS) -> tuple[list[dict], list[dict]]:
    """The findings after auditing NIGHTS one by one, and after one full audit of them all."""
    from auditor.audit import reaudit_pending
    from test_engine_incremental import add_events

    ent_path, plans_path, _ = _write_inputs(tmp, ents)
    wh = Warehouse.open(tmp / "wh", create=True)
    add_events(wh, nights[0])
    run_audit(wh, entitlements=ent_path, plans=plans_path)
    for night in nights[1:]:
        add_events(wh, night)
        assert reaudit_pending(wh).incremental
    incremental = reference.sort_findings(reference.read_table(wh, "findings"))
    run_audit(wh)
    return incremental, reference.sort_findings(reference.read_table(wh, "findings"))


def test_cycles_of_one_day_over_two_nights_are_one_finding(tmp_path) -> None:
    # alone on an instance of one seat: every logout is at the limit; the second night starts with a re-login
    events = sorted(cycling(6, 30, every_min=10, others=0), key=lambda e: e["ts"])
    cut = next(i for i, e in enumerate(events) if e["event"] == "logout" and e["ts"] >= at(30)) + 1
    incremental, full = nightly_findings(tmp_path, [events[:cut], events[cut:]], [("acme", date(2026, 10, 1), None, "UTC", 0)])
    assert [(f["kind"], f["occurrences"]) for f in full] == [("logout_cycling", 6)]
    assert incremental == full


def test_a_cycle_across_midnight_counts_on_the_day_of_its_login(tmp_path) -> None:
    # logout at 23:59:50, back at 00:00:20, then four more cycles: five on the 6th, whose first logout was on the 5th;
    # the first night ends with that logout
    midnight = datetime(2026, 10, 6, tzinfo=timezone.utc)
    logouts = [midnight - timedelta(seconds=10)] + [midnight + timedelta(minutes=3 * k) for k in range(1, 5)]
    events = [{**ev(0, "login", "c0"), "ts": midnight - timedelta(minutes=5)}]
    for k, t in enumerate(logouts):
        events += [{**ev(0, "logout", f"c{k}"), "ts": t}, {**ev(0, "login", f"c{k + 1}"), "ts": t + timedelta(seconds=30)}]
    incremental, full = nightly_findings(tmp_path, [events[:2], events[2:]], [("acme", date(2026, 10, 1), None, "UTC", 0)])
    assert [(f["day"], f["occurrences"], f["first_seen"]) for f in full] == [(date(2026, 10, 6), 5, logouts[0])]
    assert incremental == full
