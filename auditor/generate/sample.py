"""The committed ``sample_data/``: ten instances over October 2026, then a few defects.

``build_sample(OUT)`` (``auditor generate --sample OUT``) writes exactly what is
committed: the hand-written fleet below through the same generator as at
scale, day files in a mix of formats and compressions, and then — so that
ingest's rejects and duplicates show in the demo — the defects listed in
``DEFECTS``, applied line by line. ``sample_data/README.md`` describes the result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from auditor.generate import GenerateResult, generate_fleet
from auditor.generate.fleet import EntitlementChange, InstanceSpec, write_entitlements
from auditor.generate.logfiles import read_bytes, write_lines
from auditor.generate.polling import PollPlan, Simulation, simulate
from auditor.generate.snapfiles import write_snapshots

SAMPLE_SEED = 20261001
SAMPLE_START = date(2026, 10, 1)
SAMPLE_DAYS = 31

# Europe/Sofia and Europe/Berlin leave summer time on 2026-10-25 and
# Australia/Sydney starts it on 2026-10-04: October crosses both, and the
# report's default period (the last full calendar month) is the whole data set.
SAMPLE_FLEET: tuple[InstanceSpec, ...] = (
    InstanceSpec(
        # Full: the server refuses logins at the limit, until the customer buys two add-ons.
        name="acme.my.erp.net", customer="Acme Trading Ltd", timezone="Europe/Sofia",
        plan="small-business-basic", extra_sessions=2, desk_users=5, casual_users=3, casual_rate=4.0,
        enforce_excess=0, services=((6.0, 2.0, 6.0),), restart_rate=0.03, restarts=((13, 14.5),),
        change=EntitlementChange(date(2026, 10, 19), "small-business-basic", 4),
        contract_start=date(2025, 3, 1), account_manager="kalina.marinova@erp.net",
    ),
    InstanceSpec(
        # Breaches: more people than seats and a server that never refuses; an external application with 3 seats.
        name="northwind.my.erp.net", customer="Northwind Foods LLC", timezone="America/New_York",
        plan="small-business-advanced", extra_sessions=5, desk_users=10, casual_users=4, casual_rate=5.0,
        enforce_excess=None, app_seats=3, restart_rate=0.03,
        contract_start=date(2024, 11, 1), account_manager="tom.reed@erp.net",
        # Planted: a desk session also used from PC-RECEPTION.
        plant=("shared_session_devices",),
    ),
    InstanceSpec(
        # Comfortably below; a customer portal whose virtual user never counts.
        name="globex.my.erp.net", customer="Globex Logistics GmbH", timezone="Europe/Berlin",
        plan="small-business-advanced", extra_sessions=0, desk_users=2, casual_users=2, casual_rate=2.0,
        vir_rate=5.0, restart_rate=0.03,
        contract_start=date(2025, 6, 1), account_manager="anna.berg@erp.net",
    ),
    InstanceSpec(
        # Exactly at its limit of 3: always full, never over.
        name="initech.my.erp.net", customer="Initech OOD", timezone="Europe/Sofia",
        plan="small-business-basic", extra_sessions=0, desk_users=3, casual_users=2, casual_rate=2.0,
        enforce_excess=0, restart_rate=0.03,
        contract_start=date(2025, 1, 1), account_manager="kalina.marinova@erp.net",
        # Planted: a desk user frees a seat for 20-40 s, 7 times a day; look-alike: another
        # re-logs in after 3-8 minutes, at the limit too.
        plant=("logout_cycling", "slow_relogin"),
    ),
    InstanceSpec(
        # Breaches by up to 3: its server enforced three sessions more than the entitlement.
        name="umbrella.my.erp.net", customer="Umbrella Pharma AG", timezone="UTC",
        plan="small-business-advanced", extra_sessions=10, desk_users=16, casual_users=5, casual_rate=6.0,
        enforce_excess=3, services=((1.0, 1.5, 5.0), (13.0, 1.25, 8.0)), restart_rate=0.03,
        contract_start=date(2023, 9, 1), account_manager="victor.lang@erp.net",
        # Planted: a desk session naming two colleagues too.
        plant=("shared_session_users",),
    ),
    InstanceSpec(
        # Events but no entitlement: audited all the same, reported as unlicensed.
        name="hooli.my.erp.net", customer="Hooli", timezone="America/Chicago",
        plan=None, extra_sessions=0, desk_users=3, casual_users=1, casual_rate=1.5,
        enforce_excess=None, restart_rate=0.03,
    ),
    InstanceSpec(
        # Below its limit; non-ASCII and '&' in the customer's name; two service jobs.
        name="wonka.my.erp.net", customer="Café Wonka & Söhne GmbH", timezone="Europe/Berlin",
        plan="small-business-basic", extra_sessions=1, desk_users=1, casual_users=2, casual_rate=2.0,
        services=((5.5, 1.5, 6.0), (18.0, 2.0, 7.0)), restart_rate=0.03,
        contract_start=date(2025, 10, 1), account_manager="sam.ortiz@erp.net",
        # Look-alike: quick re-logins, below the limit.
        plant=("quick_relogin",),
    ),
    InstanceSpec(
        # Needs more than the plan's maximum of 35 sessions: another plan, not add-ons.
        name="stark.my.erp.net", customer="Stark Motors Inc.", timezone="America/Los_Angeles",
        plan="small-business-advanced", extra_sessions=28, desk_users=36, casual_users=6, casual_rate=4.0,
        enforce_excess=None, restart_rate=0.03,
        contract_start=date(2024, 2, 1), account_manager="tom.reed@erp.net",
    ),
    InstanceSpec(
        # Below; an apostrophe in the customer's name; a portal.
        name="vandelay.my.erp.net", customer="O'Neil & Vandelay Ltd", timezone="Europe/London",
        plan="small-business-basic", extra_sessions=3, desk_users=2, casual_users=3, casual_rate=2.5,
        vir_rate=3.0, restart_rate=0.03,
        contract_start=date(2025, 5, 1), account_manager="anna.berg@erp.net",
    ),
    InstanceSpec(
        # Changes plan mid-month, from Basic with 4 add-ons to Advanced with 4.
        name="tyrell.my.erp.net", customer="Tyrell Labs Pty Ltd", timezone="Australia/Sydney",
        plan="small-business-basic", extra_sessions=4, desk_users=6, casual_users=2, casual_rate=2.5,
        enforce_excess=0, restart_rate=0.03,
        change=EntitlementChange(date(2026, 10, 12), "small-business-advanced", 4),
        contract_start=date(2025, 8, 1), account_manager="petya.koleva@erp.net",
    ),
)


# The one polled instance: the auditor reads its sessions from polls of
# Systems_Monitoring_CurrentSessions and its audit log, not from a connection
# log (``sample_data/snapshots/``). Its server admits two sessions more than the
# entitlement, so it breaches now and then, and refuses logins beyond that.
POLLED_INSTANCE = InstanceSpec(
    name="cyberdyne.my.erp.net", customer="Cyberdyne Systems Corp.", timezone="America/New_York",
    plan="small-business-basic", extra_sessions=3, desk_users=5, casual_users=4, casual_rate=5.0,
    enforce_excess=2, services=((5.0, 3.0, 5.0), (14.0, 1.5, 4.0)), restarts=((14, 13.5),),
    contract_start=date(2026, 2, 1), account_manager="tom.reed@erp.net",
    # Planted: parallel requests; look-alike: 2 requests in 2 polls of a day.
    plant=("parallel_requests", "parallel_once"),
)
_UTC_START = datetime(2026, 10, 1, tzinfo=timezone.utc)
POLL_PLAN = PollPlan(
    start=_UTC_START,
    end=_UTC_START + timedelta(days=SAMPLE_DAYS),
    every=timedelta(minutes=5),
    # The collector's host was down for 40 minutes of a working morning.
    outage=(datetime(2026, 10, 21, 15, 10, tzinfo=timezone.utc), datetime(2026, 10, 21, 15, 50, tzinfo=timezone.utc)),
    # Upgraded to 26.1.4.3 (a restart) on the night of 2026-10-06, local time.
    old_server_until=datetime(2026, 10, 7, 3, 0, tzinfo=timezone.utc),
)
POLL_SEED = 6


def _snapshot_compression(day: date) -> str | None:
    """Sunday the 4th plain (a quiet day: small), gzip to the 9th, zstd after (the smallest)."""
    return None if day.day == 4 else "gz" if day.day <= 9 else "zst"


def _day_format(day: int) -> tuple[str, str | None]:
    """Day 1..31's file: JSON Lines, then CSV from the 21st; only a few left uncompressed, to stay small."""
    if 4 <= day <= 7:
        return ("jsonl", None)
    if day <= 16:
        return ("jsonl", "gz")
    if day <= 20:
        return ("jsonl", "zst")
    if day in (22, 23):
        return ("csv", None)
    if day <= 28:
        return ("csv", "gz")
    return ("csv", "zst")


Edit = Callable[[list[str], Path], None]


@dataclass(frozen=True)
class Defect:
    """One hand-made change to a generated file; ``why`` is what ingest should make of it."""

    file: str
    why: str
    apply: Edit


def _insert(at: int, line: str) -> Edit:
    return lambda lines, _logs: lines.insert(at, line)


def _repeat(at: int, count: int) -> Edit:
    """Repeat COUNT lines from AT right after them (an export that wrote a block twice)."""

    def apply(lines: list[str], _logs: Path) -> None:
        lines[at + count : at + count] = lines[at : at + count]

    return apply


def _carry_over(source: str, count: int) -> Edit:
    """Start the file with the last COUNT lines of SOURCE (exports that overlap)."""

    def apply(lines: list[str], logs: Path) -> None:
        lines[0:0] = _read_lines(logs / source)[-count:]

    return apply


def _restamp(at: int, render: Callable[[datetime], str]) -> Edit:
    """Write line AT's timestamp (JSON Lines) as RENDER gives it; the instant stays the same."""

    def apply(lines: list[str], _logs: Path) -> None:
        record = json.loads(lines[at])
        instant = datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))
        record["ts"] = render(instant)
        lines[at] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    return apply


def _upper_instance(at: int) -> Edit:
    def apply(lines: list[str], _logs: Path) -> None:
        record = json.loads(lines[at])
        record["instance"] = record["instance"].upper()
        lines[at] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    return apply


SOFIA_SUMMER = timezone(timedelta(hours=3))

DEFECTS: tuple[Defect, ...] = (
    Defect("2026-10-05.jsonl", "3 duplicates (a block written twice)", _repeat(200, 3)),
    Defect("2026-10-05.jsonl", "rejected: malformed JSON (a line cut short)",
           _insert(10, '{"ts":"2026-10-05T06:12:09.000000Z","instance":"acme.my.erp.net","event":"req')),
    Defect("2026-10-05.jsonl", "rejected: unparseable timestamp",
           _insert(20, '{"ts":"2026-10-05T25:61:00Z","instance":"globex.my.erp.net","event":"request","session_id":"00000000deadbeef"}')),
    Defect("2026-10-05.jsonl", "rejected: unknown event",
           _insert(30, '{"ts":"2026-10-05T07:00:00.000000Z","instance":"globex.my.erp.net","event":"heartbeat","session_id":"00000000deadbeef"}')),
    Defect("2026-10-05.jsonl", "rejected: seats 0",
           _insert(40, '{"ts":"2026-10-05T07:01:00.000000Z","instance":"northwind.my.erp.net","event":"login","session_id":"00000000c0ffee00","seats":0,"user":"webshop-connector"}')),
    Defect("2026-10-05.jsonl", "rejected: missing instance",
           _insert(50, '{"ts":"2026-10-05T07:02:00.000000Z","event":"login","session_id":"00000000c0ffee01","user":"maria.ivanova"}')),
    Defect("2026-10-05.jsonl", "rejected: not an object", _insert(60, '["2026-10-05T07:03:00Z","acme.my.erp.net","login"]')),
    Defect("2026-10-06.jsonl", "2 duplicates: 2026-10-05's last 2 lines again, in another file", _carry_over("2026-10-05.jsonl", 2)),
    Defect("2026-10-07.jsonl", "accepted: a timestamp with a +03:00 offset (Sofia's summer time) instead of Z",
           _restamp(100, lambda t: t.astimezone(SOFIA_SUMMER).isoformat(timespec="microseconds"))),
    Defect("2026-10-07.jsonl", "accepted: a timestamp with a space for the T and no offset (UTC)",
           _restamp(101, lambda t: t.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"))),
    Defect("2026-10-07.jsonl", "accepted: the instance name in upper case", _upper_instance(102)),
    Defect("2026-10-14.jsonl.gz", "rejected: session_id missing on a request",
           _insert(5, '{"ts":"2026-10-14T05:00:00.000000Z","instance":"acme.my.erp.net","event":"request"}')),
    Defect("2026-10-22.csv", "rejected: a row with too few fields", _insert(15, "2026-10-22 08:00:00,acme.my.erp.net")),
    Defect("2026-10-22.csv", "rejected: seats not a number",
           _insert(25, "2026-10-22 08:01:00.000000,northwind.my.erp.net,login,00000000c0ffee02,two,webshop-connector,APP,webshop-gw,Webshop Connector,password,")),
    Defect("2026-10-22.csv", "1 duplicate row", _repeat(300, 1)),
)


def build_sample(out_dir: Path, *, truth: Path | None = None) -> GenerateResult:
    """Write the sample data set (logs, snapshots and entitlements) into OUT_DIR, defects included.

    TRUTH, when given, receives the polled instance's true sessions (not part
    of the committed set, to keep it small: the simulation is deterministic).
    """
    out_dir = Path(out_dir)
    result = generate_fleet(
        out_dir,
        SAMPLE_FLEET,
        rng=np.random.default_rng(SAMPLE_SEED),
        start=SAMPLE_START,
        days=SAMPLE_DAYS,
        formats=[_day_format(d + 1) for d in range(SAMPLE_DAYS)],
        plant_avoid=_defect_days(),
    )
    apply_defects(out_dir / "logs")
    write_snapshots(
        out_dir,
        [sample_simulation()],
        start=SAMPLE_START,
        days=SAMPLE_DAYS,
        compression_of=_snapshot_compression,
        files_per_day=3,
        seed=POLL_SEED,
        truth=truth,
        best=True,
    )
    write_entitlements(result.entitlements, SAMPLE_FLEET + (POLLED_INSTANCE,))
    return result


def sample_simulation() -> Simulation:
    """The polled instance's month: its true sessions, audit rows, restarts and polls."""
    return simulate(POLLED_INSTANCE, POLL_PLAN, POLL_SEED)


def _defect_days() -> frozenset[date]:
    """The local days around the files with defects: planting there would move the lines the defects edit."""
    days = {date.fromisoformat(d.file[:10]) for d in DEFECTS}
    return frozenset(d + timedelta(days=k) for d in days for k in (-1, 0, 1))


def apply_defects(logs_dir: Path) -> None:
    by_file: dict[str, list[Defect]] = {}
    for defect in DEFECTS:
        by_file.setdefault(defect.file, []).append(defect)
    for name, defects in by_file.items():
        path = logs_dir / name
        lines = _read_lines(path)
        for defect in defects:
            defect.apply(lines, logs_dir)
        write_lines(path, lines)


def _read_lines(path: Path) -> list[str]:
    return read_bytes(path).decode("utf-8").splitlines()
