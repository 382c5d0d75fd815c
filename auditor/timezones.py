"""Time zones: which names auditor accepts, and local days as UTC instants.

An instance's days are local days in its entitlement's time zone. The audit's
SQL converts with DuckDB's ICU and the reports with Python's zoneinfo, so a
zone is accepted only when both know it (each accepts names the other does
not: zoneinfo reads any file under its zone directory, such as ``localtime``
or ``posix/Europe/Sofia``). Every conversion in Python goes through here.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from auditor.errors import AuditorError
from auditor.queries import run_query


@functools.cache
def engine_zones() -> frozenset[str]:
    """The time zone names DuckDB's ICU knows (the audit's statements convert with them)."""
    con = duckdb.connect()
    try:
        return frozenset(row[0] for row in run_query(con, "audit/time_zones").fetchall())
    finally:
        con.close()


def is_known(name: str) -> bool:
    """Whether both the audit (DuckDB's ICU) and the reports (Python's zoneinfo) know NAME."""
    if name not in engine_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None) -> ZoneInfo:
    """The zone NAME (UTC when empty); an unknown one is an error that says how to fix the entitlements."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise AuditorError(
            f"unknown time zone {name!r} in the warehouse's entitlements; reload a corrected file with `auditor audit --entitlements`"
        ) from None


def local_midnight(day: date, name: str | None) -> datetime:
    """The UTC instant at which DAY begins in time zone NAME."""
    return datetime.combine(day, time(0), tzinfo=zone(name)).astimezone(timezone.utc)


def local_date(instant: datetime, name: str | None) -> date:
    """The local day of INSTANT in time zone NAME."""
    return instant.astimezone(zone(name)).date()


def midnight_at_or_before(instant: datetime, name: str | None) -> datetime:
    """The UTC instant of the local midnight that begins INSTANT's local day in time zone NAME."""
    return local_midnight(local_date(instant, name), name)
