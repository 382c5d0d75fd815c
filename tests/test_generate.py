"""The generator: deterministic, obeys the input contract, behaves as documented.

The behaviour checks rebuild sessions from the generated lines with a few
plain loops (the session rules of the README, nothing else) and look at the
concurrent seats that result: full instances never exceed their limit and are
refused only when full; breaching instances exceed it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zstandard
from click.testing import CliRunner

from auditor.cli import cli
from auditor.entitlements import load_entitlements
from auditor.generate import generate
from auditor.generate.fleet import PLAN_BASE, PLAN_MAXIMUM, random_fleet
from auditor.generate.sample import DEFECTS, SAMPLE_DAYS, SAMPLE_FLEET, SAMPLE_START
from auditor.plans import load_plans

from conftest import SAMPLE_DATA

EVENTS = {"login", "request", "logout", "login_failed", "restart"}
TS_JSON = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
TS_CSV = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
IDLE = timedelta(minutes=20)


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data.decode("utf-8")


def read_events(path: Path) -> list[dict]:
    """The events of one generated file, as dicts of present fields (contract-checked)."""
    text = read_text(path)
    if ".csv" in path.name:
        rows = list(csv.DictReader(io.StringIO(text)))
        out = []
        for row in rows:
            assert TS_CSV.match(row["ts"]), row
            event = {k: v for k, v in row.items() if v != ""}
            event["ts"] = datetime.fromisoformat(row["ts"]).replace(tzinfo=timezone.utc)
            if "seats" in event:
                event["seats"] = int(event["seats"])
            out.append(event)
        return out
    out = []
    for line in text.splitlines():
        event = json.loads(line)
        assert TS_JSON.match(event["ts"]), line
        assert None not in event.values(), f"absent fields are left out, not null: {line}"
        event["ts"] = datetime.fromisoformat(event["ts"])
        out.append(event)
    return out


def all_events(out: Path) -> list[dict]:
    return [e for f in sorted((out / "logs").iterdir()) for e in read_events(f)]


def check_contract(event: dict) -> None:
    assert event["event"] in EVENTS
    assert event["instance"] and event["instance"] == event["instance"].strip()
    if event["event"] in ("login", "request", "logout"):
        assert re.fullmatch(r"[0-9a-f]{16}", event["session_id"])
    if "seats" in event:
        assert isinstance(event["seats"], int) and event["seats"] > 1
    if event["event"] == "login_failed":
        assert event["reason"] == "MaximumLicenseCountExceeded"
        assert "session_id" not in event
    if event["event"] == "restart":
        assert set(event) == {"ts", "instance", "event"}


def file_digests(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# -- determinism ----------------------------------------------------------------


@pytest.mark.parametrize("fmt,compression", [("jsonl", None), ("jsonl", "gz"), ("csv", "zst"), ("csv", "gz")])
def test_same_seed_gives_identical_bytes(tmp_path: Path, fmt: str, compression: str | None) -> None:
    a = generate(tmp_path / "a", seed=7, instances=15, days=3, fmt=fmt, compression=compression)
    b = generate(tmp_path / "b", seed=7, instances=15, days=3, fmt=fmt, compression=compression)
    assert a.events == b.events > 0
    assert file_digests(tmp_path / "a") == file_digests(tmp_path / "b")


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=7, instances=15, days=3)
    generate(tmp_path / "b", seed=8, instances=15, days=3)
    a, b = file_digests(tmp_path / "a"), file_digests(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[name] != b[name] for name in a if name.startswith("logs/"))


# -- the files ------------------------------------------------------------------


def test_one_file_per_utc_day_each_in_time_order(tmp_path: Path) -> None:
    result = generate(tmp_path, seed=1, instances=20, days=4, start=date(2026, 3, 28))
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == ["2026-03-28.jsonl", "2026-03-29.jsonl", "2026-03-30.jsonl", "2026-03-31.jsonl"]
    assert [p.name for p in result.logs] == names
    total = 0
    for path in result.logs:
        events = read_events(path)
        day = date.fromisoformat(path.name[:10])
        assert all(e["ts"].date() == day for e in events)
        assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
        total += len(events)
    assert total == result.events == sum(result.events_by_kind.values())


def test_every_line_obeys_the_input_contract_and_every_kind_occurs(tmp_path: Path) -> None:
    result = generate(tmp_path, seed=2, instances=60, days=7)
    events = all_events(tmp_path)
    for event in events:
        check_contract(event)
    kinds = {e["event"] for e in events}
    assert kinds == EVENTS
    assert all(result.events_by_kind[k] > 0 for k in EVENTS)
    assert {e.get("user_type") for e in events} >= {"INT", "APP", "VIR"}
    assert any(e.get("auth_flow") == "client_credentials" for e in events)
    assert any(e.get("seats", 1) > 1 for e in events)


def test_csv_and_compressions_hold_the_same_events(tmp_path: Path) -> None:
    generate(tmp_path / "j", seed=3, instances=10, days=2)
    generate(tmp_path / "c", seed=3, instances=10, days=2, fmt="csv", compression="zst")
    generate(tmp_path / "g", seed=3, instances=10, days=2, fmt="jsonl", compression="gz")
    assert sorted(p.name for p in (tmp_path / "c" / "logs").iterdir()) == ["2026-10-01.csv.zst", "2026-10-02.csv.zst"]
    header = read_text(tmp_path / "c" / "logs" / "2026-10-01.csv.zst").splitlines()[0]
    assert header == "ts,instance,event,session_id,seats,user,user_type,device,app,auth_flow,reason"
    j, c, g = all_events(tmp_path / "j"), all_events(tmp_path / "c"), all_events(tmp_path / "g")
    assert j == c == g


def test_files_per_day_splits_by_instance(tmp_path: Path) -> None:
    generate(tmp_path / "one", seed=4, instances=12, days=2)
    generate(tmp_path / "three", seed=4, instances=12, days=2, files_per_day=3)
    names = sorted(p.name for p in (tmp_path / "three" / "logs").iterdir())
    assert names == [f"2026-10-0{d}_0{s}.jsonl" for d in (1, 2) for s in (1, 2, 3)]
    owner: dict[tuple[str, str], str] = {}
    for path in (tmp_path / "three" / "logs").iterdir():
        for e in read_events(path):
            assert owner.setdefault((path.name[:10], e["instance"]), path.name) == path.name
    key = lambda e: (e["ts"], e["instance"], e["event"], e.get("session_id", ""))  # noqa: E731
    assert sorted(all_events(tmp_path / "three"), key=key) == sorted(all_events(tmp_path / "one"), key=key)


def test_entitlements_follow_the_audit_format(tmp_path: Path) -> None:
    generate(tmp_path, seed=5, instances=80, days=30)
    load_entitlements(tmp_path / "entitlements.csv", load_plans())
    with (tmp_path / "entitlements.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["instance", "customer", "plan", "extra_sessions", "valid_from", "valid_to", "timezone", "account_manager"]
    by_instance: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_instance[row["instance"]].append(row)
        assert row["plan"] in PLAN_BASE
        assert PLAN_BASE[row["plan"]] + int(row["extra_sessions"]) <= PLAN_MAXIMUM
        ZoneInfo(row["timezone"] or "UTC")
        if row["valid_to"]:
            assert date.fromisoformat(row["valid_from"]) < date.fromisoformat(row["valid_to"])
    changed = [rs for rs in by_instance.values() if len(rs) > 1]
    assert changed, "some instance changes entitlement mid-period"
    for first, second in changed:
        assert first["valid_to"] == second["valid_from"]
        assert date(2026, 10, 1) < date.fromisoformat(second["valid_from"]) < date(2026, 10, 31)
    in_logs = {e["instance"] for e in all_events(tmp_path)}
    assert in_logs - set(by_instance), "some instance has events but no entitlement"
    assert set(by_instance) <= in_logs


# -- behaviour --------------------------------------------------------------------


def segments(events: list[dict]) -> list[tuple[str, datetime, datetime, int]]:
    """(instance, start, end, seats) of the counted segments, by the README's session rules."""
    restarts: dict[str, list[datetime]] = defaultdict(list)
    sessions: dict[tuple[str, str], list[dict]] = defaultdict(list)
    order = {"login": 0, "request": 1, "logout": 2}
    for e in events:
        if e["event"] == "restart":
            restarts[e["instance"]].append(e["ts"])
        elif e["event"] in order:
            sessions[(e["instance"], e["session_id"])].append(e)
    out = []
    for (instance, _sid), evs in sessions.items():
        evs.sort(key=lambda e: (e["ts"], order[e["event"]]))
        if next((e["user_type"] for e in evs if "user_type" in e), None) == "VIR":
            continue
        seats = max(e.get("seats", 1) for e in evs)
        flow = next((e["auth_flow"] for e in evs if "auth_flow" in e), None)
        start = last = None
        for e in evs:
            if start is not None:
                deadline = min(
                    [last + IDLE]
                    + ([start + timedelta(hours=1)] if flow == "client_credentials" else [])
                    + [r for r in restarts[instance] if r > start][:1]
                )
                if e["ts"] >= deadline:
                    out.append((instance, start, deadline, seats))
                    start = None
            if start is None:
                if e["event"] != "logout":
                    start = last = e["ts"]
                continue
            if e["event"] == "logout":
                out.append((instance, start, e["ts"], seats))
                start = None
            else:
                last = e["ts"]
        if start is not None:
            deadline = min(
                [last + IDLE]
                + ([start + timedelta(hours=1)] if flow == "client_credentials" else [])
                + [r for r in restarts[instance] if r > start][:1]
            )
            out.append((instance, start, deadline, seats))
    return out


def seats_in_use(segs: list[tuple[str, datetime, datetime, int]]) -> dict[str, list[tuple[datetime, int]]]:
    """Per instance, the level after each change point (ends before starts at one instant)."""
    points: dict[str, list[tuple[datetime, int, int]]] = defaultdict(list)
    for instance, start, end, seats in segs:
        if end > start:
            points[instance] += [(start, 1, seats), (end, 0, -seats)]
    levels = {}
    for instance, pts in points.items():
        level, steps = 0, []
        for ts, _kind, delta in sorted(pts):
            level += delta
            steps.append((ts, level))
        levels[instance] = steps
    return levels


def level_before(steps: list[tuple[datetime, int]], t: datetime) -> int:
    level = 0
    for ts, lv in steps:
        if ts > t:
            break
        level = lv
    return level


def test_full_instances_stay_at_their_limit_and_breaching_ones_exceed_it(tmp_path: Path) -> None:
    import numpy as np

    seed, count, days, start = 11, 40, 10, date(2026, 10, 1)
    generate(tmp_path, seed=seed, instances=count, days=days, start=start)
    fleet = {s.name: s for s in random_fleet(np.random.default_rng(seed), count, start, days)}
    events = all_events(tmp_path)
    levels = seats_in_use(segments(events))
    refused = defaultdict(list)
    for e in events:
        if e["event"] == "login_failed":
            refused[e["instance"]].append(e["ts"])
    kinds = defaultdict(set)
    for name, spec in fleet.items():
        steps = levels.get(name, [])
        peak = max((lv for _, lv in steps), default=0)
        if spec.plan is None:
            kinds["unlicensed"].add(name)
            continue
        # The limit in force at a moment: the generator changes it at local midnight.
        def limit_at(t: datetime) -> int:
            return spec.seat_limit(t.astimezone(ZoneInfo(spec.timezone)).date())

        if spec.enforce_excess == 0:
            assert all(lv <= limit_at(ts) for ts, lv in steps), f"{name} exceeds a limit its server enforces"
            for t in refused[name]:
                assert level_before(steps, t) + 1 > limit_at(t), f"{name} refused a login with seats free"
            kinds["full" if refused[name] else "below"].add(name)
            if refused[name]:
                assert peak == max(limit_at(ts) for ts, _ in steps)
        else:
            assert not refused[name] or spec.enforce_excess is not None
            if any(lv > limit_at(ts) for ts, lv in steps):
                kinds["breach"].add(name)
    assert kinds["full"] and kinds["below"] and kinds["breach"] and kinds["unlicensed"], dict(kinds)


def test_working_hours_in_local_time_with_a_lunch_dip(tmp_path: Path) -> None:
    generate(tmp_path, seed=12, instances=60, days=14)
    fleet_tz = {}
    with (tmp_path / "entitlements.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            fleet_tz[row["instance"]] = row["timezone"] or "UTC"
    by_hour = [0] * 24
    weekday = weekend = 0
    for e in all_events(tmp_path):
        # People's requests (services, applications and portals name their user type on every request).
        if e["event"] != "request" or "user_type" in e or e["instance"] not in fleet_tz:
            continue
        local = e["ts"].astimezone(ZoneInfo(fleet_tz[e["instance"]]))
        by_hour[local.hour] += 1
        if local.weekday() < 5:
            weekday += 1
        else:
            weekend += 1
    assert sum(by_hour[8:18]) > 0.8 * sum(by_hour)
    assert by_hour[12] < 0.8 * by_hour[10] and by_hour[12] < 0.8 * by_hour[15]
    assert weekday / 10 > 5 * weekend / 4  # per day, weekdays are far busier


def test_client_credentials_sessions_outlive_their_hour(tmp_path: Path) -> None:
    generate(tmp_path, seed=13, instances=30, days=2)
    spans: dict[str, list[datetime]] = defaultdict(list)
    for e in all_events(tmp_path):
        if e.get("auth_flow") == "client_credentials" and "session_id" in e:
            spans[e["session_id"]].append(e["ts"])
    assert spans
    long = [ts for ts in spans.values() if max(ts) - min(ts) > timedelta(hours=1)]
    assert long
    for ts in long:
        gaps = [b - a for a, b in zip(sorted(ts), sorted(ts)[1:])]
        assert max(gaps) < timedelta(minutes=20)


def test_sessions_that_stop_and_sessions_that_log_in_again(tmp_path: Path) -> None:
    generate(tmp_path, seed=14, instances=30, days=3)
    by_sid: dict[str, list[str]] = defaultdict(list)
    for e in all_events(tmp_path):
        if "session_id" in e:
            by_sid[e["session_id"]].append(e["event"])
    assert any(evs.count("login") >= 2 for evs in by_sid.values()), "a re-login reuses a session id"
    assert any(evs[-1] == "logout" for evs in by_sid.values())
    assert any(evs[-1] == "request" for evs in by_sid.values()), "some sessions just stop"


# -- the committed sample data ------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data as the documented command writes it, through the CLI (the tests below compare
    it with the committed files)."""
    out = tmp_path_factory.mktemp("sample")
    result = CliRunner().invoke(cli, ["generate", "--sample", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return out


def test_committed_sample_data_is_what_the_documented_command_writes(rebuilt: Path) -> None:
    """If this fails after a change to the generator: `auditor generate --sample --overwrite sample_data`."""
    committed = sorted(p.name for p in (SAMPLE_DATA / "logs").iterdir())
    assert committed == sorted(p.name for p in (rebuilt / "logs").iterdir())
    for name in committed:
        # Compare the text, not the bytes: another zstd or gzip may compress differently.
        assert read_text(SAMPLE_DATA / "logs" / name) == read_text(rebuilt / "logs" / name), name
    assert (SAMPLE_DATA / "entitlements.csv").read_bytes() == (rebuilt / "entitlements.csv").read_bytes()
    committed = sorted(p.name for p in (SAMPLE_DATA / "snapshots").iterdir())
    assert committed == sorted(p.name for p in (rebuilt / "snapshots").iterdir())
    for name in committed:
        assert read_text(SAMPLE_DATA / "snapshots" / name) == read_text(rebuilt / "snapshots" / name), name
    assert "auditor generate --sample --overwrite sample_data" in (SAMPLE_DATA / "README.md").read_text(encoding="utf-8")


def test_sample_data_has_its_documented_properties() -> None:
    logs = sorted((SAMPLE_DATA / "logs").iterdir())
    assert len(logs) == SAMPLE_DAYS == 31
    assert {p.name[:10] for p in logs} == {(SAMPLE_START + timedelta(days=d)).isoformat() for d in range(31)}
    suffixes = {"".join(p.suffixes) for p in logs}
    assert suffixes == {".jsonl", ".jsonl.gz", ".jsonl.zst", ".csv", ".csv.gz", ".csv.zst"}
    # Small enough to ship in the wheel: 2.3 MB of logs, 0.7 MB of snapshots.
    assert sum(p.stat().st_size for p in SAMPLE_DATA.rglob("*") if p.is_file()) < 3_200_000
    instances = {s.name for s in SAMPLE_FLEET}
    assert len(instances) == 10
    with (SAMPLE_DATA / "entitlements.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    licensed = {r["instance"] for r in rows}
    assert len(instances - licensed) == 1, "one instance has events but no entitlement"
    assert any(sum(r["instance"] == i for r in rows) == 2 for i in licensed), "a mid-period change"
    # At least one non-UTC zone whose offset changes within the month.
    crossing = [
        r["instance"]
        for r in rows
        if r["timezone"]
        and ZoneInfo(r["timezone"]).utcoffset(datetime(2026, 10, 2)) != ZoneInfo(r["timezone"]).utcoffset(datetime(2026, 10, 30))
    ]
    assert crossing
    # Valid for the audit: its own loaders accept both files.
    plans = load_plans(SAMPLE_DATA / "plans.toml")
    assert all(p.extra_session_monthly_price for p in plans.plans.values())
    loaded, _sha = load_entitlements(SAMPLE_DATA / "entitlements.csv", plans)
    # 11 rows for the ten logged instances, one for the polled instance (sample_data/snapshots).
    assert len(loaded) == len(rows) == 12


def test_sample_defects_are_where_the_readme_says(rebuilt: Path) -> None:
    readme = (SAMPLE_DATA / "README.md").read_text(encoding="utf-8")
    for defect in DEFECTS:
        assert f"`{defect.file}`" in readme
    lines = {p.name: read_text(p).splitlines() for p in (SAMPLE_DATA / "logs").iterdir()}
    j5 = lines["2026-10-05.jsonl"]
    assert j5[209:212] == j5[206:209]
    assert lines["2026-10-06.jsonl"][:2] == j5[-2:]
    assert lines["2026-10-22.csv"][301] == lines["2026-10-22.csv"][300]
    broken = []
    for name, text in lines.items():
        for number, line in enumerate(text, 1):
            if ".csv" in name:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                broken.append((name, number))
                continue
            if not isinstance(record, dict) or record.get("event") not in EVENTS or "instance" not in record:
                broken.append((name, number))
    assert sorted(broken) == [("2026-10-05.jsonl", 11), ("2026-10-05.jsonl", 31), ("2026-10-05.jsonl", 51), ("2026-10-05.jsonl", 61)]
    assert '"seats":0' in j5[40] and "25:61" in j5[20]
    assert lines["2026-10-22.csv"][15].count(",") == 1 and ",two," in lines["2026-10-22.csv"][25]
    assert '"event":"request"}' in lines["2026-10-14.jsonl.gz"][5]


# -- auditor generate ---------------------------------------------------------


def test_cli_generate_writes_and_prints_paths(invoke, tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = invoke("generate", "--seed", "5", "--instances", "8", "--days", "2", "--format", "csv", "--compression", "gz", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(out / "logs"), str(out / "entitlements.csv")]
    assert re.match(r"wrote \d+ events \(\d+ login, \d+ request, .*\) in 2 files: 8 instances over 2 days", result.stderr)
    assert sorted(p.name for p in (out / "logs").iterdir()) == ["2026-10-01.csv.gz", "2026-10-02.csv.gz"]
    generate(tmp_path / "lib", seed=5, instances=8, days=2, fmt="csv", compression="gz")
    assert file_digests(out) == file_digests(tmp_path / "lib")


def test_cli_generate_start_files_per_day_and_quiet(invoke, tmp_path: Path) -> None:
    result = invoke("generate", "-q", "--seed", "1", "--instances", "4", "--days", "1", "--start", "2027-01-31", "--files-per-day", "2", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["2027-01-31_01.jsonl", "2027-01-31_02.jsonl"]


def test_cli_generate_refuses_to_mix_with_earlier_files_unless_overwrite(invoke, tmp_path: Path) -> None:
    assert invoke("generate", "--seed", "1", "--instances", "3", "--days", "3", tmp_path).exit_code == 0
    second = invoke("generate", "--seed", "1", "--instances", "3", "--days", "1", "--format", "csv", tmp_path)
    assert second.exit_code == 2
    assert "already holds files" in second.stderr and "--overwrite" in second.stderr
    third = invoke("generate", "--seed", "1", "--instances", "3", "--days", "1", "--format", "csv", "--overwrite", tmp_path)
    assert third.exit_code == 0, third.stderr
    assert [p.name for p in (tmp_path / "logs").iterdir()] == ["2026-10-01.csv"]
    (tmp_path / "logs" / "notes.txt").write_text("mine")
    fourth = invoke("generate", "--seed", "1", "--instances", "3", "--days", "1", "--overwrite", tmp_path)
    assert fourth.exit_code == 2 and "notes.txt" in fourth.stderr
    assert (tmp_path / "logs" / "notes.txt").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--instances", "3", "--days", "2"], "missing --seed"),
        (["--seed", "1", "--days", "2"], "missing --instances"),
        (["--seed", "1", "--instances", "0", "--days", "2"], "--instances must be at least 1"),
        (["--seed", "1", "--instances", "2", "--days", "0"], "--days must be at least 1"),
        (["--seed", "1", "--instances", "2", "--days", "1", "--format", "xml"], "'--format'"),
        (["--seed", "1", "--instances", "2", "--days", "1", "--compression", "bz2"], "'--compression'"),
        (["--seed", "1", "--instances", "2", "--days", "1", "--start", "01/10/2026"], "'--start'"),
        (["--seed", "x", "--instances", "2", "--days", "1"], "'--seed'"),
        (["--seed", "1", "--instances", "2", "--days", "1", "--files-per-day", "0"], "'--files-per-day'"),
        (["--sample", "--seed", "1", "--format", "csv"], "drop --seed, --format"),
    ],
)
def test_cli_generate_bad_options_exit_2(invoke, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("generate", *args, tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert not (tmp_path / "out" / "logs").exists()

