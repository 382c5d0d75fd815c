"""`auditor audit` through the command line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import reference
from auditor.warehouse import Warehouse

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=timezone.utc)
HEADER = "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n"


def _events(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        for kind, minute in (("login", 0), ("logout", 10)):
            rows.append({"ts": T0 + timedelta(minutes=minute), "instance": "acme", "event": kind,
                         "session_id": f"s{i}", "seats": 1, "user": f"u{i}", "user_type": "INT"})
    return rows


def _warehouse(path: Path, sessions: int = 4) -> Warehouse:
    wh = Warehouse.open(path, create=True)
    reference.write_events(wh, _events(sessions))
    return wh


def test_audit_writes_the_tables_and_sql_shows_them(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    ents = tmp_path / "e.csv"
    ents.write_text(HEADER + "ACME ,Acme Ltd,small-business-basic,0,2026-10-01,,Europe/Sofia,Mia\n")
    result = invoke("audit", "-w", warehouse_dir, "--entitlements", ents)
    assert result.exit_code == 0, result.stderr
    assert "audited 1 instance(s): 4 session segments, 1 usage steps, 1 breaches" in result.stderr
    assert result.stdout == ""
    shown = invoke("sql", "-w", warehouse_dir, "--format", "csv",
                   "SELECT instance, status, peak_seats, seat_limit, recommended_extra_sessions FROM instance_summary")
    assert shown.stdout.splitlines() == ["instance,status,peak_seats,seat_limit,recommended_extra_sessions",
                                         "acme,breach,4,3,1"]
    # re-running replaces, never appends
    assert invoke("audit", "-w", warehouse_dir, "-q").stderr == ""
    again = invoke("sql", "-w", warehouse_dir, "--format", "csv", "SELECT count(*) AS n FROM sessions")
    assert again.stdout.splitlines() == ["n", "4"]


def test_bad_entitlements_give_one_line_naming_the_line_and_exit_2(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    ents = tmp_path / "e.csv"
    ents.write_text(HEADER + "acme,Acme,small-business-basic,0,2026-10-01,,UTC,Mia\n"
                    "beta,Beta,small-business-gold,0,2026-10-01,,UTC,Mia\n")
    result = invoke("audit", "-w", warehouse_dir, "--entitlements", ents)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{ents}:3: unknown plan 'small-business-gold'" in lines[0]
    # nothing was written
    assert Warehouse.open(warehouse_dir).files("sessions") == []


def test_bad_plans_file_names_the_line(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    plans = tmp_path / "plans.toml"
    plans.write_text("[plans.a]\nbase_sessions = 3\nmax_sessions = 35\n\n[plans.b]\nbase_sessions = 9\nmax_sessions = 5\n")
    result = invoke("audit", "-w", warehouse_dir, "--plans", plans)
    assert result.exit_code == 2
    assert f"{plans}:5: plan 'b' needs max_sessions" in result.stderr


def test_tolerance_and_period_options(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    ok = invoke("audit", "-w", warehouse_dir, "--tolerance", "1h30m", "--from", "2026-10-05", "--to", "2026-10-06")
    assert ok.exit_code == 0, ok.stderr
    shown = invoke("sql", "-w", warehouse_dir, "--format", "csv", "SELECT recommended_seat_limit, status FROM instance_summary")
    assert shown.stdout.splitlines()[1] == "0,unlicensed"  # 10 minutes of use fit in the tolerance
    bad = invoke("audit", "-w", warehouse_dir, "--tolerance", "soon")
    assert bad.exit_code == 2 and "'soon' is not a duration" in bad.stderr
    backwards = invoke("audit", "-w", warehouse_dir, "--from", "2026-10-06", "--to", "2026-10-05")
    assert backwards.exit_code == 2 and "is not after --from" in backwards.stderr


def test_missing_warehouse_is_a_usage_error(invoke, tmp_path):
    result = invoke("audit", "-w", tmp_path / "none")
    assert result.exit_code == 2
    assert "there is no warehouse" in result.stderr


def test_a_bad_memory_limit_is_one_line_and_exit_2(invoke, warehouse_dir):
    _warehouse(warehouse_dir)
    result = invoke("audit", "-w", warehouse_dir, env={"AUDITOR_MEMORY_LIMIT": "lots"})
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("auditor: error: AUDITOR_MEMORY_LIMIT=lots is not a memory size")
    assert Warehouse.open(warehouse_dir).files("sessions") == []
    # a size DuckDB understands is taken
    assert invoke("audit", "-w", warehouse_dir, "-q", env={"AUDITOR_MEMORY_LIMIT": "512MB"}).exit_code == 0


def _one_line_exit_2(result, expected: str) -> None:
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("acme,Acme,small-business-basic,0,2026-10-01,,localtime,Mia\n", ":2: unknown time zone 'localtime'"),
        ("acme,Acme,small-business-basic,0,2026-10-01,,posixrules,Mia\n", ":2: unknown time zone 'posixrules'"),
        ("acme,Acme,small-business-basic,0,2026-10-01,,right/UTC,Mia\n", ":2: unknown time zone 'right/UTC'"),
        ("acme,Acme,small-business-basic,0,2026-10-01,,posix/Europe/Sofia,Mia\n",
         ":2: unknown time zone 'posix/Europe/Sofia'"),
        ("acme,Acme,small-business-basic,0,0001-01-01,,Europe/Sofia,Mia\n", ":2: valid_from 0001-01-01 is out of range"),
        ("acme,Acme,small-business-basic,100001,2026-10-01,,UTC,Mia\n", ":2: extra_sessions 100001 is above 100,000"),
    ],
)
def test_entitlements_the_engine_could_not_use_are_refused_with_file_and_line(invoke, tmp_path, warehouse_dir, rows,
                                                                              expected):
    _warehouse(warehouse_dir)
    ents = tmp_path / "e.csv"
    ents.write_text(HEADER + rows)
    result = invoke("audit", "-w", warehouse_dir, "--entitlements", ents)
    _one_line_exit_2(result, f"{ents}{expected}")
    assert Warehouse.open(warehouse_dir).files("sessions") == []


def test_a_plan_above_the_session_bound_is_refused_with_file_and_line(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    plans = tmp_path / "plans.toml"
    plans.write_text("[plans.huge]\nbase_sessions = 3\nmax_sessions = 100000000000\n")
    ents = tmp_path / "e.csv"
    ents.write_text(HEADER + "acme,Acme,huge,0,2026-10-01,,UTC,Mia\n")
    result = invoke("audit", "-w", warehouse_dir, "--entitlements", ents, "--plans", plans)
    _one_line_exit_2(result, f"{plans}:1: plan 'huge': max_sessions 100000000000 is above 100,000")


def test_a_column_named_twice_is_refused(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    ents = tmp_path / "e.csv"
    ents.write_text(HEADER.strip() + ",timezone\nacme,Acme,small-business-basic,0,2026-10-01,,UTC,Mia,Europe/Sofia\n")
    result = invoke("audit", "-w", warehouse_dir, "--entitlements", ents)
    _one_line_exit_2(result, f"{ents}:1: column 'timezone' appears twice")


def test_entitlements_without_rows_need_the_explicit_flag(invoke, tmp_path, warehouse_dir):
    _warehouse(warehouse_dir)
    ents = tmp_path / "e.csv"
    ents.write_text(HEADER + "acme,Acme,small-business-basic,5,2026-10-01,,UTC,Mia\n")
    assert invoke("audit", "-w", warehouse_dir, "-q", "--entitlements", ents).exit_code == 0
    ents.write_text(HEADER + "\n")
    refused = invoke("audit", "-w", warehouse_dir, "--entitlements", ents)
    _one_line_exit_2(refused, f"{ents}: no entitlement rows; ")
    assert "pass --allow-empty-entitlements to audit every instance as unlicensed" in refused.stderr
    status = "SELECT status FROM instance_summary"
    assert invoke("sql", "-w", warehouse_dir, "-f", "csv", status).stdout.splitlines() == ["status", "compliant"]
    allowed = invoke("audit", "-w", warehouse_dir, "-q", "--entitlements", ents, "--allow-empty-entitlements")
    assert allowed.exit_code == 0, allowed.stderr
    assert invoke("sql", "-w", warehouse_dir, "-f", "csv", status).stdout.splitlines() == ["status", "unlicensed"]


@pytest.mark.parametrize(("option", "value"), [("--from", "0001-01-01"), ("--to", "9999-12-31")])
def test_period_dates_out_of_range_are_a_usage_error(invoke, warehouse_dir, option, value):
    _warehouse(warehouse_dir)
    result = invoke("audit", "-w", warehouse_dir, option, value)
    _one_line_exit_2(result, f"{option} {value} is out of range; give a date from 1900-01-01 to 2999-12-31")
