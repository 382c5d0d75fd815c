"""The snapshot generator: what the monitoring views show of true sessions, and the sample's polled instance."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.generate.logfiles import read_bytes
from auditor.generate.sample import POLL_PLAN, POLLED_INSTANCE, sample_simulation
from auditor.generate.snapfiles import read_truth, write_truth
from auditor.generate.snapshots import (
    AUDIT_LOG,
    COLLECTOR_APPLICATION,
    COLLECTOR_USER,
    CURRENT_SESSIONS,
    LOGIN_FAILED,
    AuditEvent,
    TrueSession,
    audit_log_line,
    iso_ms,
    poll_line,
    view_rows,
)

from budget import examples
from conftest import SAMPLE_DATA
from test_generate import file_digests

TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
T0 = datetime(2026, 10, 5, 8, 0, tzinfo=timezone.utc)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


MIA = TrueSession(
    session_id="s-mia",
    user="mia",
    start=minutes(0),
    end=minutes(40),
    request_times=(minutes(1), minutes(5), minutes(19.5)),
    device="LAPTOP-7",
    applications="ERP.net Web Client",
)
JOB = TrueSession(
    session_id="s-job",
    user="sync",
    start=minutes(10),
    end=minutes(70),
    request_times=(minutes(10),),
    device=None,
    applications="Webshop Connector",
    absolute_expiration=minutes(70),
)


def test_view_lists_sessions_alive_at_the_instant_half_open():
    assert view_rows([MIA, JOB], minutes(0) - timedelta(microseconds=1)) == []
    assert [r["SessionId"] for r in view_rows([JOB, MIA], minutes(10))] == ["s-mia", "s-job"]
    assert [r["SessionId"] for r in view_rows([MIA, JOB], minutes(40))] == ["s-job"]
    assert view_rows([MIA, JOB], minutes(70)) == []


def test_view_row_counts_requests_up_to_the_instant():
    (row,) = view_rows([MIA], minutes(0.5))
    assert row == {
        "SessionId": "s-mia",
        "UserLogin": "mia",
        "StartTime": "2026-10-05T08:00:00.000Z",
        "LastRequestTime": "2026-10-05T08:00:00.000Z",
        "Applications": "ERP.net Web Client",
        "Device": "LAPTOP-7",
        "CurrentRequestsCount": 0,
        "TotalRequestsCount": 0,
        "DownloadMB": 0.0,
        "UploadMB": 0.0,
    }
    (row,) = view_rows([MIA], minutes(5))
    assert (row["LastRequestTime"], row["TotalRequestsCount"], row["CurrentRequestsCount"]) == ("2026-10-05T08:05:00.000Z", 2, 1)
    (row,) = view_rows([MIA], minutes(30))
    assert (row["LastRequestTime"], row["TotalRequestsCount"], row["CurrentRequestsCount"]) == ("2026-10-05T08:19:30.000Z", 3, 0)
    assert row["DownloadMB"] > row["UploadMB"] > 0


def test_view_leaves_nulls_out_and_sets_absolute_expiry_only_for_services():
    mia, job = view_rows([MIA, JOB], minutes(15))
    assert "AbsoluteExpirationTime" not in mia
    assert job["AbsoluteExpirationTime"] == "2026-10-05T09:10:00.000Z"
    assert "Device" not in job
    assert None not in job.values()


def test_old_server_names_the_user_User_and_has_no_session_id():
    (row,) = view_rows([MIA], minutes(3), old_server=True)
    assert "SessionId" not in row and "UserLogin" not in row
    assert row["User"] == "mia"


def test_timestamps_have_milliseconds_and_z():
    assert iso_ms(datetime(2026, 10, 5, 8, 0, 1, 123999, tzinfo=timezone.utc)) == "2026-10-05T08:00:01.123Z"


def test_poll_line_in_the_issue_format():
    ok = json.loads(poll_line("acme.my.erp.net", minutes(5), view_rows([MIA], minutes(5))))
    assert list(ok) == ["instance", "entity_set", "polled_at", "collector", "rows"]
    assert ok["entity_set"] == CURRENT_SESSIONS and ok["polled_at"] == "2026-10-05T08:05:00.000Z"
    assert ok["collector"] == {"user": "auditor-collector", "application": "ERP.net auditor collector"}
    failed = json.loads(poll_line("acme.my.erp.net", minutes(10), error="HTTP 503 Service Unavailable"))
    assert failed["error"] == "HTTP 503 Service Unavailable" and "rows" not in failed
    with pytest.raises(ValueError):
        poll_line("acme.my.erp.net", minutes(10))


def test_audit_log_line():
    refused = AuditEvent("0001", minutes(2), LOGIN_FAILED, "ann", "ERP.net Web Client", "MaximumLicenseCountExceeded")
    line = json.loads(audit_log_line("acme.my.erp.net", minutes(5), [refused]))
    assert line["entity_set"] == AUDIT_LOG
    assert line["rows"] == [
        {
            "Id": "0001",
            "EventTimeUtc": "2026-10-05T08:02:00.000Z",
            "EventClass": "Authentication",
            "EventType": "LoginFailed",
            "ApplicationName": "ERP.net Web Client",
            "Details": "MaximumLicenseCountExceeded",
            "UserLogin": "ann",
        }
    ]


# -- view_rows against a plain reference ------------------------------------------

_MINUTE = st.integers(min_value=0, max_value=120)


@st.composite
def true_sessions(draw) -> list[TrueSession]:
    out = []
    for n in range(draw(st.integers(0, 6))):
        start = draw(_MINUTE)
        length = draw(st.integers(1, 60))
        requests = sorted(draw(st.lists(st.integers(0, length - 1), max_size=5)))
        out.append(
            TrueSession(
                session_id=f"s{n}",
                user=f"u{n % 3}",
                start=minutes(start),
                end=minutes(start + length),
                request_times=tuple(minutes(start + r) for r in requests),
                device=draw(st.sampled_from([None, "PC-1"])),
                applications="ERP.net Web Client",
            )
        )
    return out


@settings(max_examples=examples(100))
@given(sessions=true_sessions(), at=st.integers(0, 200), old=st.booleans())
def test_view_rows_match_a_plain_reference(sessions: list[TrueSession], at: int, old: bool) -> None:
    instant = minutes(at)
    rows = view_rows(sessions, instant, old_server=old)
    alive = [s for s in sessions if s.start <= instant < s.end]
    assert len(rows) == len(alive)
    by_start = sorted(alive, key=lambda s: (s.start, s.session_id))
    for row, s in zip(rows, by_start):
        assert ("SessionId" in row) is not old and row.get("SessionId", s.session_id) == s.session_id
        assert row["User" if old else "UserLogin"] == s.user
        done = [t for t in s.request_times if t <= instant]
        assert row["TotalRequestsCount"] == len(done)
        assert row["LastRequestTime"] == iso_ms(max(done, default=s.start))
        assert row["StartTime"] <= row["LastRequestTime"] <= iso_ms(instant)
        assert ("Device" in row) is (s.device is not None)


# -- the sample's polled instance ------------------------------------------------


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def sample_lines() -> dict[str, list[str]]:
    """The raw lines of every committed snapshot file, by file name."""
    return {p.name: read_bytes(p).decode("utf-8").splitlines() for p in sorted((SAMPLE_DATA / "snapshots").iterdir())}


@pytest.fixture(scope="module")
def sample_polls(sample_lines) -> list[dict]:
    """The sample's lines parsed, each once, in time order."""
    unique = {line for lines in sample_lines.values() for line in lines}
    return sorted((json.loads(line) for line in unique), key=lambda r: (r["polled_at"], r["entity_set"]))


def test_sample_lines_are_json_with_the_issue_keys(sample_lines, sample_polls) -> None:
    assert {name.split("_")[0] for name in sample_lines} == {f"2026-10-{d:02d}" for d in range(1, 32)}
    assert {"".join(Path(n).suffixes) for n in sample_lines} == {".jsonl", ".jsonl.gz", ".jsonl.zst"}
    for record in sample_polls:
        assert record["instance"] == POLLED_INSTANCE.name
        assert record["entity_set"] in (CURRENT_SESSIONS, AUDIT_LOG)
        assert TS.fullmatch(record["polled_at"])
        assert record["collector"] == {"user": COLLECTOR_USER, "application": COLLECTOR_APPLICATION}
        assert ("rows" in record) != ("error" in record)
        for row in record.get("rows", []):
            assert None not in row.values()
            for key in ("StartTime", "LastRequestTime", "AbsoluteExpirationTime", "EventTimeUtc"):
                assert key not in row or TS.fullmatch(row[key])
        # A line belongs to the day file of its UTC date.
    for name, lines in sample_lines.items():
        assert all(json.loads(line)["polled_at"][:10] == name[:10] for line in lines), name


def test_sample_lines_are_shuffled_and_some_written_twice(sample_lines) -> None:
    all_lines = [line for lines in sample_lines.values() for line in lines]
    assert 5 <= len(all_lines) - len(set(all_lines)) <= len(all_lines) // 100
    unsorted = [n for n, lines in sample_lines.items() if [json.loads(x)["polled_at"] for x in lines] != sorted(json.loads(x)["polled_at"] for x in lines)]
    assert len(unsorted) > len(sample_lines) // 2


def test_sample_polls_every_five_minutes_with_jitter_failures_and_one_outage(sample_polls) -> None:
    polls = [r for r in sample_polls if r["entity_set"] == CURRENT_SESSIONS]
    times = [_instant(r["polled_at"]) for r in polls]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) > timedelta(minutes=4) and len({g for g in gaps}) > 100, "jitter"
    long = [(a, b) for a, b in zip(times, times[1:]) if b - a > timedelta(minutes=6)]
    assert len(long) == 1 and long[0][1] - long[0][0] >= timedelta(minutes=40), long
    assert long[0][0] < POLL_PLAN.outage[0] and long[0][1] >= POLL_PLAN.outage[1]
    failed = [r["error"] for r in polls if "error" in r]
    assert 10 <= len(failed) <= len(polls) // 50
    assert len(set(failed)) >= 3


def test_sample_has_an_old_server_stretch_then_session_ids(sample_polls) -> None:
    rows = [(r["polled_at"], row) for r in sample_polls if r["entity_set"] == CURRENT_SESSIONS for row in r.get("rows", [])]
    upgrade = iso_ms(POLL_PLAN.old_server_until)
    old = [row for at, row in rows if at < upgrade]
    new = [row for at, row in rows if at >= upgrade]
    assert old and new
    assert all("User" in row and "SessionId" not in row and "UserLogin" not in row for row in old)
    assert all("UserLogin" in row and "SessionId" in row and "User" not in row for row in new)


def test_sample_shows_the_collector_services_and_absolute_expiry(sample_polls) -> None:
    rows = [r for p in sample_polls if p["entity_set"] == CURRENT_SESSIONS for r in p.get("rows", [])]
    collector = {r["StartTime"]: r for r in rows if r.get("UserLogin", r.get("User")) == COLLECTOR_USER}
    assert all(r["Applications"] == COLLECTOR_APPLICATION for r in collector.values())
    # About one session an hour: the collector's client-credentials session expires after one.
    assert 31 * 24 * 0.8 < len(collector) <= 31 * 24
    for r in rows:
        if "AbsoluteExpirationTime" in r:
            assert _instant(r["AbsoluteExpirationTime"]) - _instant(r["StartTime"]) == timedelta(hours=1)
    services = {r["Applications"] for r in rows if "AbsoluteExpirationTime" in r} - {COLLECTOR_APPLICATION}
    assert services == {"Webshop Connector", "Payroll Sync Service"}
    assert not any("AbsoluteExpirationTime" in r for r in rows if r["Applications"].startswith("ERP.net ") and r["Applications"] != COLLECTOR_APPLICATION)


def test_sample_audit_log_has_logins_logouts_and_refusals_at_the_limit(sample_polls) -> None:
    reads = [r for r in sample_polls if r["entity_set"] == AUDIT_LOG]
    assert 31 * 24 * 0.9 < len(reads) <= 31 * 24
    entries = [e for r in reads for e in r["rows"]]
    assert len({e["Id"] for e in entries}) == len(entries), "each row is read once"
    assert all(e["EventTimeUtc"] < r["polled_at"] for r in reads for e in r["rows"])
    kinds = {e["EventType"] for e in entries}
    assert kinds == {"Login", "LogOut", "LoginFailed"}
    refused = [e for e in entries if e["EventType"] == "LoginFailed"]
    assert refused and all("MaximumLicenseCountExceeded" in e["Details"] for e in refused)
    assert all(e["EventClass"] == "Authentication" and e["UserLogin"] and e["ApplicationName"] for e in entries)


def test_sample_polls_show_exactly_the_true_sessions_alive(sample_polls) -> None:
    sim = sample_simulation()
    by_id = {s.session_id: s for s in sim.sessions}
    checked = 0
    for record in sample_polls:
        if record["entity_set"] != CURRENT_SESSIONS or "rows" not in record or "SessionId" not in str(record["rows"]):
            continue
        at = _instant(record["polled_at"])
        listed = {row["SessionId"] for row in record["rows"]}
        assert listed == {s.session_id for s in sim.sessions if s.start <= at < s.end}, record["polled_at"]
        for row in record["rows"]:
            assert row["StartTime"] == iso_ms(by_id[row["SessionId"]].start)
        checked += 1
    assert checked > 6000


def test_sample_truth_has_a_restart_breaches_refusals_and_sessions_between_polls(sample_polls) -> None:
    sim = sample_simulation()
    zone = ZoneInfo(POLLED_INSTANCE.timezone)
    # A restart ends every session at once (the collector's too).
    for restart in sim.restarts:
        assert not [s for s in sim.sessions if s.start < restart < s.end]
    assert max(sum(s.end == r and not s.uncounted for s in sim.sessions) for r in sim.restarts) >= 4, "one in working hours"
    assert POLL_PLAN.old_server_until in sim.restarts and len(sim.restarts) >= 2
    # True concurrency of counted sessions breaches the limit of 6 on a few days, never by more than the server allows.
    limit = POLLED_INSTANCE.seat_limit(date(2026, 10, 15))
    steps = sorted([(s.start, 1) for s in sim.sessions if not s.uncounted] + [(s.end, -1) for s in sim.sessions if not s.uncounted])
    seats, over_days, peak = 0, set(), 0
    for at, step in steps:
        seats += step
        peak = max(peak, seats)
        if seats > limit:
            over_days.add(at.astimezone(zone).date())
    assert 3 <= len(over_days) <= 15 and peak <= limit + POLLED_INSTANCE.enforce_excess
    # Short sessions that no poll saw: only their audit-log Login row tells of them.
    polled = [_instant(r["polled_at"]) for r in sample_polls if r["entity_set"] == CURRENT_SESSIONS and "rows" in r]
    unseen = [s for s in sim.sessions if not any(s.start <= p < s.end for p in polled)]
    assert len(unseen) >= 5
    logins = {(e.user, e.at) for e in sim.audit if e.event_type == "Login"}
    assert all((s.user, s.start) in logins for s in unseen)


# -- determinism, truth and the CLI -----------------------------------------------


def test_truth_file_round_trips(tmp_path: Path) -> None:
    sim = sample_simulation()
    write_truth(tmp_path / "truth.jsonl.gz", [sim])
    assert read_truth(tmp_path / "truth.jsonl.gz") == {POLLED_INSTANCE.name: sim.sessions}


def test_cli_generate_snapshots_writes_files_truth_and_the_same_bytes_twice(invoke, tmp_path: Path) -> None:
    args = ["generate", "--format", "snapshots", "--seed", "3", "--instances", "2", "--days", "2", "--poll-every", "10m"]
    result = invoke(*args, "--compression", "zst", "--truth", tmp_path / "a-truth.jsonl", tmp_path / "a")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(tmp_path / "a" / "snapshots"), str(tmp_path / "a" / "entitlements.csv"), str(tmp_path / "a-truth.jsonl")]
    assert re.match(r"wrote \d+ lines in 6 files: \d+ polls of 2 instances over 2 days", result.stderr)
    names = sorted(p.name for p in (tmp_path / "a" / "snapshots").iterdir())
    assert names == [f"2026-10-0{d}_0{n}.jsonl.zst" for d in (1, 2) for n in (1, 2, 3)]
    records = [json.loads(x) for p in (tmp_path / "a" / "snapshots").iterdir() for x in read_bytes(p).decode().splitlines()]
    polls = sorted({r["polled_at"] for r in records if r["entity_set"] == CURRENT_SESSIONS})
    assert 2 * 2 * 24 * 6 - 2 * 5 <= len(polls) <= 2 * 2 * 24 * 6, "every 10 minutes, less each instance's outage"
    truth = read_truth(tmp_path / "a-truth.jsonl")
    assert len(truth) == 2 and all(any(s.uncounted for s in sessions) for sessions in truth.values())
    again = invoke(*args, "--compression", "zst", "--truth", tmp_path / "b-truth.jsonl", tmp_path / "b")
    assert again.exit_code == 0, again.stderr
    assert file_digests(tmp_path / "a") == file_digests(tmp_path / "b")
    assert (tmp_path / "a-truth.jsonl").read_bytes() == (tmp_path / "b-truth.jsonl").read_bytes()
    # Rerunning into the same place needs --overwrite.
    third = invoke(*args, tmp_path / "a")
    assert third.exit_code == 2 and "--overwrite" in third.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["--seed", "1", "--instances", "1", "--days", "1", "--poll-every", "5m"], "--poll-every only go with --format snapshots"),
        (["--seed", "1", "--instances", "1", "--days", "1", "--truth", "t.jsonl"], "--truth only go with --format snapshots"),
        (["--seed", "1", "--instances", "1", "--days", "1", "--format", "snapshots", "--poll-every", "10s"], "at least 30s"),
        (["--seed", "1", "--instances", "1", "--days", "1", "--format", "snapshots", "--poll-every", "often"], "'--poll-every'"),
        (["--sample", "--poll-every", "5m"], "drop --poll-every"),
        (["--seed", "1", "--instances", "0", "--days", "1", "--format", "snapshots"], "--instances must be at least 1"),
        (["--seed", "1", "--instances", "1", "--days", "0", "--format", "snapshots"], "--days must be at least 1"),
    ],
)
def test_cli_generate_snapshot_options_exit_2(invoke, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("generate", *args, tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out" / "snapshots").exists()


def test_cli_generate_sample_writes_the_polled_truth_when_asked(invoke, tmp_path: Path) -> None:
    result = invoke("generate", "-q", "--sample", "--truth", tmp_path / "truth.jsonl", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == str(tmp_path / "truth.jsonl")
    assert read_truth(tmp_path / "truth.jsonl") == {POLLED_INSTANCE.name: sample_simulation().sessions}


def test_sample_readme_counts_are_the_files(sample_lines, sample_polls) -> None:
    readme = (SAMPLE_DATA / "README.md").read_text(encoding="utf-8")
    all_lines = sum(len(lines) for lines in sample_lines.values())
    views = [r for r in sample_polls if r["entity_set"] == CURRENT_SESSIONS]
    reads = [r for r in sample_polls if r["entity_set"] == AUDIT_LOG]
    failed = sum("error" in r for r in views)
    rows = sum(len(r.get("rows", [])) for r in views)
    told = (
        f"In all, {all_lines:,} lines: {len(views):,} polls of the view ({failed} failed, {rows:,} rows), "
        f"{len(reads)} reads of the audit log"
    )
    assert told in readme
    assert f"{all_lines - len(sample_polls)} lines written twice" in readme
    sim = sample_simulation()
    assert f"{sum(s.uncounted for s in sim.sessions)} of them" in readme
    assert f"{sum(not s.uncounted for s in sim.sessions)} counted sessions" in readme
