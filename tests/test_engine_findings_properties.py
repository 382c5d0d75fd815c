"""The findings against the plain Python reference, on generated inputs that come close to every threshold.

Each instance gets people sharing sessions (devices and users drawn per event, some absent, some
virtual), people logging out and back in after gaps around the cycling gap (59, 60, 61 s ...), others
filling the instance to about its limit, and the adversarial events of test_engine_properties; polled
instances get sessions with requests in progress at once. The engine must give the reference's rows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import given, settings
from budget import examples

import reference
from auditor.audit import run_audit
from auditor.warehouse import Warehouse
from poll_strategies import add_polled, all_stored, polled_instances
from test_engine_polls import polled_ents
from test_engine_properties import _write_inputs, scenarios

CYCLE_GAPS_S = [10, 30, 59, 60, 60, 61, 0, 300]


@st.composite
def finding_events(draw, inst: str, base, licensed: bool) -> list[dict]:
    """Shared sessions, logout cycles and the people around them, on INST from BASE."""
    def event(t, kind, sid, **kw) -> dict:
        row = {"ts": t, "instance": inst, "event": kind, "session_id": sid, "seats": 1, "user": "ann",
               "user_type": "INT", "device": "pc1", "app": "web", "auth_flow": None, "reason": None}
        row.update(kw)
        return row

    events = []
    for k in range(draw(st.integers(0, 3))):  # people at work: the instance near its limit
        t0 = base + timedelta(minutes=draw(st.integers(0, 120)))
        events += [event(t0 + timedelta(minutes=m), "request", f"w{k}", user=f"u{k}", device=f"d{k}")
                   for m in range(0, draw(st.sampled_from([60, 300, 600])), 10)]
    for k in range(draw(st.integers(0, 2))):  # a session maybe shared
        t = base + timedelta(minutes=draw(st.integers(0, 600)))
        seats = draw(st.sampled_from([1, 1, 2]))
        for _ in range(draw(st.integers(1, 10))):
            events.append(event(t, draw(st.sampled_from(["login", "request", "request", "logout"])), f"sh{k}",
                                seats=seats, user=draw(st.sampled_from(["ann", "bob", "cy", None])),
                                user_type=draw(st.sampled_from(["INT", "INT", "VIR", None])),
                                device=draw(st.sampled_from(["pc1", "pc2", None]))))
            t += timedelta(minutes=draw(st.sampled_from([0, 1, 5, 19, 21])))
    for k in range(draw(st.integers(1 if licensed else 0, 2 if licensed else 1))):  # someone logging out and back in
        user, device = draw(st.sampled_from([("ann", "pc1"), ("bob", "pc2"), ("ann", None)]))
        t = base + timedelta(minutes=draw(st.integers(0, 600)))
        sid = 0
        events.append(event(t, "login", f"c{k}-0", user=user, device=device))
        for _ in range(draw(st.integers(5, 12))):
            t += timedelta(minutes=draw(st.sampled_from([1, 3, 7, 15, 30])))
            events.append(event(t, "logout", f"c{k}-{sid}", user=user, device=device))
            sid += draw(st.sampled_from([0, 1, 1]))
            t += timedelta(seconds=draw(st.sampled_from(CYCLE_GAPS_S)))
            events.append(event(t, "login", f"c{k}-{sid}", user=user, device=draw(st.sampled_from([device, device, None]))))
    return events


@st.composite
def finding_scenarios(draw):
    events, ents = draw(scenarios())
    base = min(e["ts"] for e in events)
    for inst in sorted({e["instance"] for e in events}):
        events += draw(finding_events(inst, base, any(e[0] == inst for e in ents)))
    return events, ents


def audit_findings(tmp: Path, events: list[dict], ents: list[tuple], polled: dict | None = None) -> tuple[Warehouse, list[dict]]:
    """Audit EVENTS and POLLED instances; the warehouse, after checking its findings (but their evidence)
    equal the reference's, and the reference's findings."""
    ent_path, plans_path, ref_ents = _write_inputs(tmp, ents)
    wh = Warehouse.open(tmp / "wh", create=True)
    if events:
        reference.write_events(wh, events)
    polled = polled or {}
    if polled:
        add_polled(wh, [o for d in polled.values() for o in d.observations], [e for d in polled.values() for e in d.audit_log])
    run_audit(wh, entitlements=ent_path, plans=plans_path, allow_empty_entitlements=True)
    polls, rows, log = all_stored(polled)
    full = [{**{k: None for k in ("user", "user_type", "device", "app", "auth_flow", "reason")}, **e} for e in events]
    tables = reference.audit(full, ref_ents, polls=polls, polled_rows=rows, audit_log=log)
    want = reference.findings(full, tables["sessions"], tables["usage_steps"], ref_ents, polls, rows)
    got = [{k: v for k, v in r.items() if k != "evidence"} for r in reference.read_table(wh, "findings")]
    assert reference.sort_findings(got) == reference.sort_findings(want)
    return wh, want


def check_findings(tmp: Path, events: list[dict], ents: list[tuple], polled: dict | None = None) -> None:
    wh, want = audit_findings(tmp, events, ents, polled)
    # instance_summary: the count and the implied peak over the whole (default) period
    for s in reference.read_table(wh, "instance_summary"):
        mine = [f for f in want if f["instance"] == s["instance"]]
        assert s["findings"] == len(mine)
        assert s["peak_seats_implied"] == max([s["peak_seats"]] + [f["peak_seats_implied"] for f in mine])


@settings(max_examples=examples(6, thorough=45))
@given(case=finding_scenarios())
def test_findings_equal_the_reference(tmp_path_factory, case) -> None:
    events, ents = case
    check_findings(tmp_path_factory.mktemp("find"), events, ents)


@st.composite
def polled_case(draw):
    polled = draw(polled_instances())
    return polled, draw(polled_ents(sorted(polled)))


@settings(max_examples=examples(3, thorough=24))
@given(case=polled_case())
def test_parallel_request_findings_equal_the_reference(tmp_path_factory, case) -> None:
    polled, ents = case
    check_findings(tmp_path_factory.mktemp("findp"), [], ents, polled)
