"""Entitlements CSV: limits from the plan, local midnights, and errors naming the line."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from auditor.entitlements import EntitlementsFileError, parse_entitlements
from auditor.plans import load_plans

HEADER = "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n"


def parse(body: str, header: str = HEADER):
    return parse_entitlements((header + body).encode(), "e.csv", load_plans())


def test_limits_and_local_midnights():
    rows = parse(
        "Acme.My.ERP.net ,Acme,small-business-advanced,2,2026-10-01,2026-10-25,Europe/Sofia,Mia\n"
        "acme.my.erp.net,Acme,small-business-advanced,4,2026-10-25,,Europe/Sofia,Mia\n"
        "beta,,small-business-basic,,2026-10-01,,,\n"
    )
    acme1, acme2, beta = rows
    assert (acme1.instance, acme1.seat_limit, acme1.plan_maximum) == ("acme.my.erp.net", 7, 35)
    assert acme1.valid_from_ts == datetime(2026, 9, 30, 21, tzinfo=timezone.utc)  # EEST, UTC+3
    assert acme2.valid_from_ts == datetime(2026, 10, 24, 21, tzinfo=timezone.utc)
    assert acme2.valid_to is None and acme2.valid_to_ts is None
    assert (beta.seat_limit, beta.timezone, beta.customer, beta.valid_from) == (3, "UTC", None, date(2026, 10, 1))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("acme,A,small-business-gold,0,2026-10-01,,UTC,m\n", "e.csv:3: unknown plan 'small-business-gold'"),
        ("acme,A,small-business-basic,0,2026-10-01,,Mars/Olympus,m\n", "e.csv:3: unknown time zone 'Mars/Olympus'"),
        ("acme,A,small-business-basic,33,2026-10-01,,UTC,m\n", "e.csv:3: seat limit 36 .* above the maximum 35"),
        ("acme,A,small-business-basic,0,2026-10-01,,UTC,m\nacme,A,small-business-basic,1,2026-10-15,,UTC,m\n",
         "e.csv:4: this row of acme overlaps the one on line 3"),
        ("acme,A,small-business-basic,x,2026-10-01,,UTC,m\n", "e.csv:3: extra_sessions 'x' is not a whole number"),
        ("acme,A,small-business-basic,-1,2026-10-01,,UTC,m\n", "e.csv:3: extra_sessions -1 is negative"),
        ("acme,A,small-business-basic,0,01/10/2026,,UTC,m\n", "e.csv:3: valid_from '01/10/2026' is not a date"),
        ("acme,A,small-business-basic,0,2026-10-05,2026-10-01,UTC,m\n", "e.csv:3: valid_to 2026-10-01 is not after"),
        (",A,small-business-basic,0,2026-10-01,,UTC,m\n", "e.csv:3: instance is empty"),
        ("acme,A,small-business-basic,0,2026-10-01,,UTC\n", "e.csv:3: 7 fields where the header has 8"),
        # zone names Python's zoneinfo loads but DuckDB's ICU does not know
        ("acme,A,small-business-basic,0,2026-10-01,,localtime,m\n", "e.csv:3: unknown time zone 'localtime'"),
        ("acme,A,small-business-basic,0,2026-10-01,,posixrules,m\n", "e.csv:3: unknown time zone 'posixrules'"),
        ("acme,A,small-business-basic,0,2026-10-01,,right/UTC,m\n", "e.csv:3: unknown time zone 'right/UTC'"),
        ("acme,A,small-business-basic,0,2026-10-01,,posix/Europe/Sofia,m\n",
         "e.csv:3: unknown time zone 'posix/Europe/Sofia'"),
        # dates outside limits.FIRST_DATE .. LAST_DATE
        ("acme,A,small-business-basic,0,0001-01-01,,Europe/Sofia,m\n",
         "e.csv:3: valid_from 0001-01-01 is out of range; give a date from 1900-01-01 to 2999-12-31"),
        ("acme,A,small-business-basic,0,2026-10-01,9999-12-31,Pacific/Kiritimati,m\n",
         "e.csv:3: valid_to 9999-12-31 is out of range"),
        ("acme,A,small-business-basic,100000000000,2026-10-01,,UTC,m\n",
         "e.csv:3: extra_sessions 100000000000 is above 100,000"),
        ("acme,A,small-business-basic,1_0,2026-10-01,,UTC,m\n", "e.csv:3: extra_sessions '1_0' is not a whole number"),
    ],
)
def test_errors_name_the_line(body, message):
    with pytest.raises(EntitlementsFileError, match=message):
        parse("\n" + body)  # a blank line first: line numbers still count it


def test_rows_touching_at_a_boundary_do_not_overlap():
    rows = parse("acme,A,small-business-basic,0,2026-10-01,2026-10-15,UTC,m\nacme,A,small-business-basic,1,2026-10-15,,UTC,m\n")
    assert [r.seat_limit for r in rows] == [3, 4]


def test_header_must_name_the_columns():
    with pytest.raises(EntitlementsFileError, match="e.csv:1: the header lacks column.* account_manager"):
        parse("", header="instance,customer,plan,extra_sessions,valid_from,valid_to,timezone\n")
    with pytest.raises(EntitlementsFileError, match="e.csv: the file is empty"):
        parse_entitlements(b"", "e.csv", load_plans())


def test_zones_both_duckdb_and_zoneinfo_know_are_accepted():
    rows = parse("a,A,small-business-basic,0,2026-10-01,,America/Sao_Paulo,m\nb,A,small-business-basic,0,2026-10-01,,Etc/UTC,m\n")
    assert [r.timezone for r in rows] == ["America/Sao_Paulo", "Etc/UTC"]


def test_a_column_named_twice_is_refused():
    with pytest.raises(EntitlementsFileError, match="^e.csv:1: column 'plan' appears twice"):
        parse("acme,A,small-business-basic,0,2026-10-01,,UTC,m,small-business-advanced\n", header=HEADER.strip() + ",Plan\n")


def test_a_header_without_rows_is_refused_unless_allowed():
    with pytest.raises(EntitlementsFileError, match="^e.csv: no entitlement rows; .* --allow-empty-entitlements to audit every"):
        parse("\n\n")
    assert parse_entitlements((HEADER + "\n").encode(), "e.csv", load_plans(), allow_empty=True) == []
