"""Planted licence-term behaviours: the audit finds every planted finding, and nothing where none was planted.

Generated fleets plant each finding kind and each look-alike (``auditor.generate.plants``); the
generator says what it planted where, and the audit of its output must find exactly the planted kinds,
instance by instance. The committed sample data shows each kind in the instances sample_data/README.md names.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pytest
from budget import examples
from hypothesis import given, settings

import reference
from auditor.audit import reaudit_pending, run_audit
from auditor.generate import generate, generate_fleet
from auditor.generate.fleet import InstanceSpec, write_entitlements
from auditor.generate.plants import FINDING_KINDS, LOOK_ALIKES
from auditor.generate.polling import PollPlan, simulate
from auditor.generate.snapfiles import generate_snapshots, write_snapshots
from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from conftest import SAMPLE_DATA

START = date(2026, 10, 5)  # a Monday
DAYS = 6

#: Small instances that each plant may go to: one at its limit (the server refuses beyond it), one well below.
FULL = InstanceSpec("full.example", "Full Ltd", "Europe/Sofia", "small-business-basic", 0, desk_users=3,
                    casual_users=2, casual_rate=2.0, enforce_excess=0)
BELOW = InstanceSpec("below.example", "Below Ltd", "America/New_York", "small-business-basic", 5, desk_users=3,
                     casual_users=2, casual_rate=2.0, services=((6.0, 2.0, 6.0),), vir_rate=3.0)
LOG_CHOICES = {
    "shared_session_devices": (FULL, BELOW), "shared_session_users": (FULL, BELOW), "logout_cycling": (FULL,),
    "slow_relogin": (FULL,), "quick_relogin": (BELOW,),
}


def audited_findings(out: Path, sources: list[Path]) -> set[tuple[str, str]]:
    wh = Warehouse.open(out / "wh", create=True)
    ingest(wh, sources)
    run_audit(wh, entitlements=out / "entitlements.csv")
    return {(f["instance"], f["kind"]) for f in reference.read_table(wh, "findings")}


def expected(planted: dict[str, tuple[str, ...]]) -> set[tuple[str, str]]:
    return {(inst, name) for inst, names in planted.items() for name in names if name in FINDING_KINDS}


@settings(max_examples=examples(1, thorough=9))
@given(seed=st.integers(0, 2**32 - 1), picks=st.lists(st.sampled_from(sorted(LOG_CHOICES)), min_size=1, max_size=4),
       sides=st.lists(st.integers(0, 1), min_size=4, max_size=4))
def test_every_planted_log_finding_is_found_and_no_other(tmp_path_factory, seed, picks, sides) -> None:
    fleet: dict[str, InstanceSpec] = {}
    for k, name in enumerate(picks):
        template = LOG_CHOICES[name][sides[k] % len(LOG_CHOICES[name])]
        spec = dataclasses.replace(template, name=f"i{k}.{template.name}", plant=(name,))
        fleet[spec.name] = spec
    # and one instance with nothing planted
    fleet["clean.example"] = dataclasses.replace(FULL, name="clean.example")
    out = tmp_path_factory.mktemp("plants")
    result = generate_fleet(out, list(fleet.values()), rng=np.random.default_rng(seed), start=START, days=DAYS,
                            formats=[("jsonl", None)] * DAYS)
    # what was asked for could be planted on some day; the look-alikes too
    assert {(inst, n) for inst, names in result.planted.items() for n in names} >= {
        (s.name, p) for s in fleet.values() for p in s.plant if p != "logout_cycling"}
    assert audited_findings(out, [out / "logs"]) == expected(result.planted)


@settings(max_examples=examples(2))
@given(seed=st.integers(0, 2**32 - 1), plant=st.sampled_from([("parallel_requests",), ("parallel_once",),
                                                             ("parallel_requests", "parallel_once"), ()]))
def test_planted_parallel_requests_are_found_and_the_look_alike_is_not(tmp_path_factory, seed, plant) -> None:
    spec = dataclasses.replace(FULL, name="polled.example", enforce_excess=2, services=((5.0, 2.0, 5.0),), plant=plant)
    begin = datetime.combine(START, datetime.min.time(), timezone.utc)
    sim = simulate(spec, PollPlan(begin, begin + timedelta(days=DAYS), timedelta(minutes=5)), seed)
    assert set(sim.planted) == set(plant)
    out = tmp_path_factory.mktemp("polled")
    write_snapshots(out, [sim], start=START, days=DAYS, compression_of=lambda _d: None, files_per_day=1, seed=seed, truth=None)
    write_entitlements(out / "entitlements.csv", [spec])
    assert audited_findings(out, [out / "snapshots"]) == expected({spec.name: sim.planted})


def test_a_random_fleet_plants_each_kind_and_its_audit_finds_exactly_them(tmp_path) -> None:
    result = generate(tmp_path, seed=14, instances=100, days=5, start=START)
    planted = {n for names in result.planted.values() for n in names}
    assert planted >= {"logout_cycling", "shared_session_users", "slow_relogin", "quick_relogin"}
    found = audited_findings(tmp_path, [tmp_path / "logs"])
    assert found == expected(result.planted)


def test_a_random_polled_fleet_plants_parallel_requests_and_its_audit_finds_exactly_them(tmp_path) -> None:
    result = generate_snapshots(tmp_path, seed=3, instances=60, days=5, start=START, poll_every=timedelta(minutes=5))
    planted = {n for names in result.planted.values() for n in names}
    assert planted == {"parallel_requests", "parallel_once"}
    assert audited_findings(tmp_path, [tmp_path / "snapshots"]) == expected(result.planted)


# --- the committed sample -------------------------------------------------------------------

SAMPLE_FINDINGS = {
    ("northwind.my.erp.net", "shared_session_devices"), ("umbrella.my.erp.net", "shared_session_users"),
    ("initech.my.erp.net", "logout_cycling"), ("cyberdyne.my.erp.net", "parallel_requests"),
}


@pytest.fixture(scope="module")
def sample_findings(tmp_path_factory) -> list[dict]:
    wh = Warehouse.open(tmp_path_factory.mktemp("sample") / "wh", create=True)
    ingest(wh, [SAMPLE_DATA / "logs", SAMPLE_DATA / "snapshots"])
    run_audit(wh, entitlements=SAMPLE_DATA / "entitlements.csv", plans=SAMPLE_DATA / "plans.toml")
    return reference.read_table(wh, "findings")


def test_the_sample_shows_each_kind_on_the_planted_instances_only(sample_findings) -> None:
    assert {(f["instance"], f["kind"]) for f in sample_findings} == SAMPLE_FINDINGS
    # three days of each, as planted; the look-alikes (initech's slow re-logins, wonka's quick ones below
    # its limit, cyberdyne's two-poll days) add none
    assert sorted((f["kind"], f["day"].day) for f in sample_findings) == sorted(
        [("shared_session_devices", d) for d in (2, 9, 12)] + [("shared_session_users", d) for d in (2, 9, 12)]
        + [("logout_cycling", d) for d in (2, 16, 19)] + [("parallel_requests", d) for d in (1, 2, 5)])


def test_the_sample_fleet_plants_every_look_alike() -> None:
    from auditor.generate.sample import POLLED_INSTANCE, SAMPLE_FLEET

    planted = {p for s in (*SAMPLE_FLEET, POLLED_INSTANCE) for p in s.plant}
    assert planted == set(FINDING_KINDS) | set(LOOK_ALIKES)


def test_a_planted_fleet_audited_night_by_night_has_the_findings_of_a_full_audit(tmp_path) -> None:
    """The generated logs of every planted kind and look-alike, one day file a night: the incremental
    audits end with the findings (and summaries) of one full audit of the same events."""
    fleet = [dataclasses.replace(FULL if k != "quick_relogin" else BELOW, name=f"{k}.example", plant=(k,))
             for k in ("shared_session_devices", "shared_session_users", "logout_cycling", "slow_relogin", "quick_relogin")]
    result = generate_fleet(tmp_path, fleet, rng=np.random.default_rng(5), start=START, days=DAYS,
                            formats=[("jsonl", None)] * DAYS)
    wh = Warehouse.open(tmp_path / "wh", create=True)
    days = sorted((tmp_path / "logs").iterdir())
    ingest(wh, days[:1])
    run_audit(wh, entitlements=tmp_path / "entitlements.csv")
    for day in days[1:]:
        ingest(wh, [day])
        assert reaudit_pending(wh).incremental
    nightly = {t: reference.read_table(wh, t) for t in ("findings", "instance_summary")}
    run_audit(wh)
    assert {t: reference.read_table(wh, t) for t in nightly} == nightly
    assert {(f["instance"], f["kind"]) for f in nightly["findings"]} == expected(result.planted)
    assert {k for _, k in expected(result.planted)} == {"shared_session_devices", "shared_session_users", "logout_cycling"}
