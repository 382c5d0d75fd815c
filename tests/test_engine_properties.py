"""The engine against the plain Python reference, on adversarial generated event sets.

Times are drawn on a coarse grid so that equal timestamps, back-to-back segments
and gaps of exactly the idle timeout (20 minutes) are frequent; the period crosses
the EU (2026-10-25) and US (2026-11-01) daylight-saving changes; entitlements change
at local midnights; sessions carry seats, VIR users and the client-credentials flow.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import given, settings
from budget import examples

import reference
from auditor.audit import run_audit
from auditor.warehouse import Warehouse

ZONES = ["UTC", "Europe/Sofia", "America/New_York"]
GAPS_MIN = [0, 0, 1, 5, 19, 20, 20, 21, 40, 61]
PLANS = '[plans.tiny]\nbase_sessions = 1\nmax_sessions = 4\n'


@st.composite
def scenarios(draw):
    # around the EU change (night of 25 Oct) or the US one (night of 1 Nov)
    base = draw(st.sampled_from([datetime(2026, 10, 24, 18, tzinfo=timezone.utc), datetime(2026, 10, 31, 22, tzinfo=timezone.utc)]))
    grid = timedelta(minutes=5)
    instances = draw(st.lists(st.sampled_from(["acme", "beta", "gamma"]), min_size=1, max_size=2, unique=True))
    events: list[dict] = []
    for inst in instances:
        for sid in range(draw(st.integers(1, 5))):
            t = base + grid * draw(st.integers(0, 12 * 12))
            user_type = draw(st.sampled_from(["INT", "INT", "APP", "VIR", None]))
            auth_flow = draw(st.sampled_from([None, None, "client_credentials", "password"]))
            seats = draw(st.integers(1, 3))
            user = draw(st.sampled_from(["ann", "bob", None]))
            device = draw(st.sampled_from(["pc1", "pc2", None]))
            for _ in range(draw(st.integers(1, 12))):
                kind = draw(st.sampled_from(["login", "request", "request", "request", "logout"]))
                events.append(
                    {
                        "ts": t,
                        "instance": inst,
                        "event": kind,
                        "session_id": f"s{sid}",
                        "seats": draw(st.sampled_from([seats, seats, 1])),
                        "user": user,
                        "user_type": draw(st.sampled_from([user_type, user_type, None])),
                        "device": device,
                        "app": "web",
                        "auth_flow": draw(st.sampled_from([auth_flow, auth_flow, None])),
                        "reason": None,
                    }
                )
                t += timedelta(minutes=draw(st.sampled_from(GAPS_MIN)))
        for _ in range(draw(st.integers(0, 2))):
            events.append({"ts": base + grid * draw(st.integers(0, 12 * 14)), "instance": inst, "event": "restart",
                           "session_id": None, "seats": 1})
        for _ in range(draw(st.integers(0, 2))):
            events.append({"ts": base + grid * draw(st.integers(0, 12 * 14)), "instance": inst, "event": "login_failed",
                           "session_id": None, "seats": 1, "reason": "MaximumLicenseCountExceeded"})
    ents = []
    day0 = base.date() - timedelta(days=1)
    for inst in instances:
        if not draw(st.booleans()) and inst != "acme":
            continue  # unlicensed
        tz = draw(st.sampled_from(ZONES))
        cuts = sorted(draw(st.sets(st.integers(0, 4), min_size=1, max_size=3)))
        open_ended = draw(st.booleans())
        for i, c in enumerate(cuts):
            start = day0 + timedelta(days=c)
            end = day0 + timedelta(days=cuts[i + 1]) if i + 1 < len(cuts) else (None if open_ended else start + timedelta(days=1))
            if end is not None and end - start > timedelta(days=1) and draw(st.booleans()):
                end = start + timedelta(days=1)  # a gap without entitlement before the next row
            ents.append((inst, start, end, tz, draw(st.integers(0, 2))))
    return events, ents


def _write_inputs(tmp: Path, ents: list[tuple]) -> tuple[Path, Path, list[reference.Ent]]:
    plans = tmp / "plans.toml"
    plans.write_text(PLANS)
    lines = ["instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager"]
    ref = []
    for inst, start, end, tz, extra in ents:
        lines.append(f"{inst},Cust {inst},tiny,{extra},{start},{end or ''},{tz},am")
        ref.append(
            reference.Ent(inst, reference.day_bounds(start, tz)[0], reference.day_bounds(end, tz)[0] if end else None, 1 + extra, tz)
        )
    path = tmp / "entitlements.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, plans, ref


def check_engine_matches_reference(tmp: Path, events: list[dict], ents: list[tuple]) -> None:
    ent_path, plans_path, ref_ents = _write_inputs(tmp, ents)
    wh = Warehouse.open(tmp / "wh", create=True)
    reference.write_events(wh, events)
    run_audit(wh, entitlements=ent_path, plans=plans_path, allow_empty_entitlements=True)
    full = [{**{k: None for k in ("user", "user_type", "device", "app", "auth_flow", "reason")}, **e} for e in events]
    expected = reference.audit(full, ref_ents)
    for table in ("sessions", "usage_steps", "breaches", "daily_usage"):
        got = reference.read_table(wh, table)
        want = reference.sort_rows(expected[table], table)
        assert got == want, f"{table} differs"
    check_log_bounds_are_exact(wh)


#: (lower-bound column, its twin) per table: for event logs the two are one number.
TWINS = {
    "sessions": (("end_ts_min", "end_ts"),),
    "usage_steps": (("seats_in_use_min", "seats_in_use"),),
    "breaches": (("certain_seconds", "duration_s"),),
    "daily_usage": (("peak_seats_min", "peak_seats"), ("seconds_over_limit_min", "seconds_over_limit"),
                    ("certain_breach_count", "breach_count"), ("in_certain_breach_at_start", "in_breach_at_start")),
    "instance_summary": (("peak_seats_min", "peak_seats"), ("seconds_over_limit_min", "seconds_over_limit"),
                         ("certain_breach_count", "breach_count")),
}


def check_log_bounds_are_exact(wh: Warehouse) -> None:
    """Event logs are exact: every _min column equals its twin, every breach is certain, coverage is whole."""
    for table, pairs in TWINS.items():
        for row in reference.read_table(wh, table):
            assert all(row[low] == row[high] for low, high in pairs), (table, row)
    assert all(s["source"] == "log" for s in reference.read_table(wh, "sessions"))
    assert all(b["certain"] for b in reference.read_table(wh, "breaches"))
    summary = reference.read_table(wh, "instance_summary")
    assert all(r["coverage"] == 1.0 and r["status"] != "possible_breach" for r in summary)


@settings(max_examples=examples(12, thorough=90))
@given(scenario=scenarios())
def test_engine_equals_reference(tmp_path_factory, scenario) -> None:
    events, ents = scenario
    check_engine_matches_reference(tmp_path_factory.mktemp("p"), events, ents)
