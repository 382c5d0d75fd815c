"""Issue 9, cases 1 and 2: no accepted timestamp or seat weight can make a later stage fail or cost
what the calendar span between two events would cost."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import reference
from auditor.audit import run_audit
from auditor.exitcodes import ExitCode
from auditor.warehouse import Warehouse
from tests.ingest_support import rows, write_lines

ENTITLEMENTS = (
    "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n"
    "acme.my.erp.net,Acme,small-business-basic,0,2000-01-01,,Europe/Sofia,\n"
)


def _line(ts: str, event: str = "login", session_id: str | None = "s1", **more: object) -> str:
    return json.dumps({"ts": ts, "instance": "acme.my.erp.net", "event": event, "session_id": session_id, **more})


def _iso(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_the_window_is_settable_from_the_command_line(invoke, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    log = write_lines(tmp_path / "log.jsonl", [
        _line("1995-06-01T08:00:00Z"),
        _line(_iso(now + timedelta(days=3)), session_id="s2"),
        _line("2026-10-05T08:00:00Z", session_id="s3"),
    ])
    default = invoke("ingest", "-q", "-w", tmp_path / "a", log)
    assert default.exit_code == 0, default.output
    assert sorted(rows(tmp_path / "a", "SELECT reason FROM rejects")) == [("timestamp in the future",), ("timestamp too old",)]
    wide = invoke("ingest", "-q", "-w", tmp_path / "b", "--not-before", "1990-01-01", "--max-ahead", "7d", log)
    assert wide.exit_code == 0, wide.output
    assert rows(tmp_path / "b", "SELECT count(*) FROM events") == [(3,)]
    assert rows(tmp_path / "b", "SELECT count(*) FROM rejects") == [(0,)]


def test_a_window_that_cannot_be_is_a_usage_error(invoke, tmp_path: Path) -> None:
    log = write_lines(tmp_path / "log.jsonl", [_line("2026-10-05T08:00:00Z")])
    for options in (["--not-before", "0001-01-01"], ["--not-before", "2999-01-01"], ["--max-ahead", "99999d"],
                    ["--max-ahead", "99999999999999d"], ["--max-ahead", "-1d"]):
        result = invoke("ingest", "-w", tmp_path / "wh", *options, log)
        assert result.exit_code == ExitCode.USAGE, (options, result.output)
        assert result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "wh").exists()


def test_the_audit_costs_the_days_with_data_not_the_years_between(invoke, tmp_path: Path) -> None:
    log = write_lines(tmp_path / "log.jsonl", [
        _line("2001-03-01T08:00:00Z"), _line("2001-03-01T08:05:00Z", "logout"),
        _line("2026-10-05T08:00:00Z", session_id="s2"), _line("2026-10-05T08:05:00Z", "logout", session_id="s2"),
    ])
    (tmp_path / "entitlements.csv").write_text(ENTITLEMENTS)
    assert invoke("ingest", "-q", "-w", tmp_path / "wh", log).exit_code == 0
    result = invoke("audit", "-q", "-w", tmp_path / "wh", "--entitlements", tmp_path / "entitlements.csv")
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "wh", "SELECT CAST(day AS VARCHAR), peak_seats FROM daily_usage ORDER BY day") == [
        ("2001-03-01", 1), ("2026-10-05", 1)
    ]
    assert len(list((tmp_path / "wh" / "daily_usage").rglob("*.parquet"))) == 2
    assert len(list((tmp_path / "wh" / "daily_levels").rglob("*.parquet"))) == 2


def test_the_largest_seat_weight_is_accepted_and_summed(invoke, tmp_path: Path) -> None:
    log = write_lines(tmp_path / "log.jsonl", [
        _line("2026-10-06T09:00:00Z", session_id="a", seats=1000),
        _line("2026-10-06T09:00:00Z", session_id="b", seats=1000),
        _line("2026-10-06T09:00:00Z", session_id="c", seats=2147483647),
    ])
    assert invoke("ingest", "-q", "-w", tmp_path / "wh", log).exit_code == 0
    assert rows(tmp_path / "wh", "SELECT reason FROM rejects") == [("seats above 1000",)]
    assert invoke("audit", "-q", "-w", tmp_path / "wh").exit_code == 0
    assert rows(tmp_path / "wh", "SELECT peak_seats FROM instance_summary") == [(2000,)]


def test_seats_in_use_cannot_overflow(tmp_path: Path) -> None:
    # A warehouse written before the seat maximum existed may hold any 32-bit weight: their sum
    # must still be exact (it overflowed INTEGER and failed every later audit).
    wh = Warehouse.open(tmp_path / "wh", create=True)
    start = datetime(2026, 10, 6, 9, tzinfo=timezone.utc)
    heavy = 2**31 - 1
    events = [
        {"ts": start, "instance": "s.my.erp.net", "event": "login", "session_id": sid, "seats": heavy, "user": None,
         "user_type": None, "device": None, "app": None, "auth_flow": None, "reason": None}
        for sid in ("a", "b", "c")
    ]
    reference.write_events(wh, events)
    run_audit(wh)
    assert rows(wh, "SELECT max(seats_in_use) FROM usage_steps") == [(3 * heavy,)]
    assert rows(wh, "SELECT peak_seats FROM daily_usage") == [(3 * heavy,)]
    assert rows(wh, "SELECT peak_seats, p95_seats, recommended_seat_limit FROM instance_summary") == [(3 * heavy,) * 3]
