"""The engine on polled data, against the plain Python reference and against the truth.

The polls sample generated true sessions (tests/poll_strategies.py). The engine's
tables must equal the reference's, alone and mixed with event-log instances; and,
what the bounds promise: the true seat count lies between seats_in_use_min and
seats_in_use at every instant the polls speak for (up to the instance's last
successful poll), the true daily peak between peak_seats_min and peak_seats, every
certain breach overlaps a true one, and polls at every start and end give the truth.
The same data written as snapshot files goes through `ingest` to the same tables.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import given, settings
from budget import examples

import reference
from auditor.audit import run_audit
from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from poll_strategies import Polled, add_polled, all_stored, observe, polled_instances, true_points, true_seats, true_sessions
from test_engine_properties import _write_inputs, scenarios

TABLES = ("sessions", "usage_steps", "breaches", "daily_usage", "coverage_gaps", "daily_coverage")


@st.composite
def polled_ents(draw, instances) -> list[tuple]:
    """Entitlements of 1 to 3 seats (plan tiny), sometimes changing at a local midnight, sometimes none."""
    out = []
    for inst in instances:
        if draw(st.integers(0, 4)) == 0:
            continue  # unlicensed
        tz = draw(st.sampled_from(["UTC", "Europe/Sofia"]))
        if draw(st.booleans()):
            out.append((inst, date(2026, 10, 1), None, tz, draw(st.integers(0, 2))))
        else:
            cut = draw(st.sampled_from([date(2026, 10, 25), date(2026, 11, 2), date(2026, 11, 3)]))
            out.append((inst, date(2026, 10, 1), cut, tz, draw(st.integers(0, 2))))
            out.append((inst, cut, None, tz, draw(st.integers(0, 2))))
    return out


def audit_engine(tmp: Path, polled: dict[str, Polled], ents: list[tuple], events: list[dict] = ()) -> tuple[dict, dict, list]:
    """Run the engine and the reference on the same data: (engine tables, reference tables, reference entitlements)."""
    ent_path, plans_path, ref_ents = _write_inputs(tmp, ents)
    wh = Warehouse.open(tmp / "wh", create=True)
    if events:
        reference.write_events(wh, list(events))
    add_polled(wh, [o for d in polled.values() for o in d.observations], [e for d in polled.values() for e in d.audit_log])
    run_audit(wh, entitlements=ent_path, plans=plans_path, allow_empty_entitlements=True)
    polls, rows, log = all_stored(polled)
    full = [{**{k: None for k in ("user", "user_type", "device", "app", "auth_flow", "reason")}, **e} for e in events]
    want = reference.audit(full, ref_ents, polls=polls, polled_rows=rows, audit_log=log)
    got = {t: reference.read_table(wh, t) for t in TABLES}
    return got, {t: reference.sort_rows(want[t], t) for t in TABLES}, ref_ents


def step_at(steps: list[dict], inst: str, t: datetime) -> tuple[int, int]:
    """(seats_in_use_min, seats_in_use) at T from usage_steps (0 where no step covers T)."""
    for s in steps:
        if s["instance"] == inst and s["step_start"] <= t < s["step_end"]:
            return s["seats_in_use_min"], s["seats_in_use"]
    return 0, 0


def last_ok_poll(d: Polled) -> datetime | None:
    times = [p["polled_at"] for p, _ in d.observations if p["ok"]]
    return max(times) if times else None


def check_bounds(tables: dict, polled: dict[str, Polled], ents: list[reference.Ent]) -> None:
    """(b) truth within the bounds, instant by instant and day by day; (c) certain breaches are true ones."""
    for inst, d in polled.items():
        cutoff = last_ok_poll(d)
        steps = [s for s in tables["usage_steps"] if s["instance"] == inst]
        points = set(true_points(d.truth)) | {s["step_start"] for s in steps} | {p["polled_at"] for p, _ in d.observations}
        for t in sorted(points):
            low, high = step_at(steps, inst, t)
            truth = true_seats(d.truth, t)
            assert low <= truth, (inst, t, low, truth)
            if cutoff is not None and t < cutoff:  # beyond the last poll nothing bounds the truth from above
                assert truth <= high, (inst, t, truth, high)
        tz = reference.instance_timezone(ents, inst)
        for day in (r for r in tables["daily_usage"] if r["instance"] == inst):
            d0, d1 = reference.day_bounds(day["day"], tz)
            inside = [t for t in points | {d0} if d0 <= t < d1]
            assert max(true_seats(d.truth, t) for t in inside) >= day["peak_seats_min"], day
            before = [t for t in inside if cutoff is not None and t < cutoff]
            if before:
                assert max(true_seats(d.truth, t) for t in before) <= day["peak_seats"], day
        for b in (b for b in tables["breaches"] if b["instance"] == inst and b["certain"]):
            inside = [t for t in points | {b["breach_start"]} if b["breach_start"] <= t < b["breach_end"]]
            assert any(true_seats(d.truth, t) > reference.limit_at(ents, inst, t) for t in inside), b


def assert_tables_equal(got: dict, want: dict) -> None:
    for table in TABLES:
        assert got[table] == want[table], f"{table} differs"


@settings(max_examples=examples(4, thorough=24))
@given(polled=polled_instances(), data=st.data())
def test_polled_engine_equals_reference_and_bounds_hold(tmp_path_factory, polled, data) -> None:
    ents = data.draw(polled_ents(sorted(polled)))
    got, want, ref_ents = audit_engine(tmp_path_factory.mktemp("poll"), polled, ents)
    check_bounds(want, polled, ref_ents)  # the reference keeps the promise ...
    assert_tables_equal(got, want)  # ... and the engine is the reference
    check_bounds(got, polled, ref_ents)


@settings(max_examples=examples(5))
@given(scenario=scenarios(), polled=polled_instances(), data=st.data())
def test_polled_and_logged_instances_together_equal_the_reference(tmp_path_factory, scenario, polled, data) -> None:
    events, ents = scenario
    ents = ents + data.draw(polled_ents(sorted(polled)))
    got, want, _ = audit_engine(tmp_path_factory.mktemp("mixed"), polled, ents, events)
    assert_tables_equal(got, want)


@settings(max_examples=examples(5))
@given(truth=true_sessions("p1", datetime.fromisoformat("2026-11-02T07:00:00+00:00")), data=st.data())
def test_a_poll_at_every_start_and_end_gives_the_truth(tmp_path_factory, truth, data) -> None:
    # polls at every start, just before and at every end, and just after it: each session is
    # listed from its start to its last instant, and missed by the next poll, at its end
    times = sorted({t for s in truth for t in (s.start, s.end - reference.US, s.end, s.end + reference.US)})
    polled = {"p1": observe("p1", truth, [(t, True) for t in data.draw(st.permutations(times))])}
    ents = data.draw(polled_ents(["p1"]))
    got, want, _ = audit_engine(tmp_path_factory.mktemp("exact"), polled, ents)
    for tables in (want, got):
        points = true_points(truth)
        for a, b in zip(points, points[1:]):
            for t in (a, a + (b - a) / 2):
                if b - a > 2 * reference.US:
                    assert step_at(tables["usage_steps"], "p1", t) == (true_seats(truth, t),) * 2, t
        # the bounds differ only in the microsecond before each end
        assert all(b["certain"] and b["duration_s"] - b["certain_seconds"] < 1e-3 for b in tables["breaches"])


def snapshot_lines(d: Polled) -> list[str]:
    """D as snapshot-file lines (the issue's format), in arrival order, repeats included; None attributes left out."""

    def stamp(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat().replace("+00:00", "Z")

    def compact(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if v is not None}

    lines = []
    for p, rows in d.observations:
        line = {"instance": p["instance"], "entity_set": p["entity_set"], "polled_at": stamp(p["polled_at"]),
                "collector": {"user": p["collector_user"], "application": p["collector_application"]}}
        if p["ok"]:
            line["rows"] = [compact({"SessionId": r["session_id"], "UserLogin": r["user"], "StartTime": stamp(r["start_time"]),
                                     "LastRequestTime": stamp(r["last_request_time"]),
                                     "AbsoluteExpirationTime": stamp(r["absolute_expiration_time"]),
                                     "Applications": r["applications"], "Device": r["device"]}) for r in rows]
        else:
            line["error"] = p["error"]
        lines.append(json.dumps(line))
    for e in d.audit_log:
        lines.append(json.dumps({"instance": e["instance"], "entity_set": "Systems_Monitoring_AuditLogEntries",
                                 "polled_at": stamp(e["event_time"]),
                                 "rows": [compact({"Id": e["id"], "EventTimeUtc": stamp(e["event_time"]),
                                                   "EventClass": e["event_class"], "EventType": e["event_type"],
                                                   "ApplicationName": e["application_name"], "Details": e["details"],
                                                   "UserLogin": e["user"]})]}))
    return lines


@settings(max_examples=examples(3))
@given(polled=polled_instances(), data=st.data())
def test_snapshot_files_through_ingest_give_the_reference_tables(tmp_path_factory, polled, data) -> None:
    # the same data as snapshot files through `ingest`: what ingest stores is what the other tests write
    tmp = tmp_path_factory.mktemp("files")
    ents = data.draw(polled_ents(sorted(polled)))
    ent_path, plans_path, ref_ents = _write_inputs(tmp, ents)
    (tmp / "in").mkdir()
    for inst, d in polled.items():
        (tmp / "in" / f"{inst}.jsonl").write_text("\n".join(snapshot_lines(d)) + "\n")
    wh = Warehouse.open(tmp / "wh", create=True)
    result = ingest(wh, [tmp / "in"])
    assert not reference.read_table(wh, "rejects"), result
    direct = Warehouse.open(tmp / "direct", create=True)
    add_polled(direct, [o for d in polled.values() for o in d.observations], [e for d in polled.values() for e in d.audit_log])
    assert wh.state().pending_audit == direct.state().pending_audit  # the incremental tests owe what ingest owes
    run_audit(wh, entitlements=ent_path, plans=plans_path, allow_empty_entitlements=True)
    polls, rows, log = all_stored(polled)
    want = reference.audit([], ref_ents, polls=polls, polled_rows=rows, audit_log=log)
    assert_tables_equal({t: reference.read_table(wh, t) for t in TABLES}, {t: reference.sort_rows(want[t], t) for t in TABLES})
