"""Small connection logs, one file per UTC day, for the nightly batch's tests.

Two instances with a seat limit of 3 (small-business-basic, no extra sessions):
- acme goes over its limit on the first day (4 sessions at once), and one of its
  sessions is open at midnight and continues in the second day's file;
- bolt is within its limit on the first day and goes over it on the second.
"""

from __future__ import annotations

import json
from pathlib import Path

ACME, BOLT = "acme.my.erp.net", "bolt.my.erp.net"

ENTITLEMENTS = """instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager
acme.my.erp.net,Acme Ltd,small-business-basic,0,2026-01-01,,Europe/Sofia,ann@example.com
bolt.my.erp.net,Bolt & Co,small-business-basic,0,2026-01-01,,UTC,bob@example.com
"""

#: the same entitlements, with acme buying two more sessions from October
ENTITLEMENTS_CHANGED = """instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager
acme.my.erp.net,Acme Ltd,small-business-basic,0,2026-01-01,2026-10-01,Europe/Sofia,ann@example.com
acme.my.erp.net,Acme Ltd,small-business-basic,2,2026-10-01,,Europe/Sofia,ann@example.com
bolt.my.erp.net,Bolt & Co,small-business-basic,0,2026-01-01,,UTC,bob@example.com
"""


def _session(instance: str, sid: str, user: str, day: str, start: str, *more: str, logout: str | None = None) -> list[dict]:
    events = [{"ts": f"{day}T{start}Z", "instance": instance, "event": "login", "session_id": sid, "user": user, "device": f"pc-{user}"}]
    events += [{"ts": f"{day}T{t}Z", "instance": instance, "event": "request", "session_id": sid} for t in more]
    if logout:
        events.append({"ts": f"{day}T{logout}Z", "instance": instance, "event": "logout", "session_id": sid})
    return events


def day_events(n: int) -> list[dict]:
    """The events of day N (1, 2 or 3)."""
    if n == 1:
        day = "2026-10-05"
        events = []
        for i in range(4):
            events += _session(ACME, f"a{i}", f"user{i}", day, f"09:0{i}:00", "09:10:00", logout="09:30:00")
        events += _session(ACME, "a-late", "night", day, "23:55:00")
        for i in range(2):
            events += _session(BOLT, f"b{i}", f"user{i}", day, f"10:0{i}:00", logout="10:40:00")
        events.append({"ts": f"{day}T09:05:00Z", "instance": ACME, "event": "login_failed", "user": "user9",
                       "reason": "MaximumLicenseCountExceeded"})
        return events
    if n == 2:
        day = "2026-10-06"
        # The session acme opened at 23:55 yesterday goes on past midnight.
        events = [{"ts": f"{day}T00:05:00Z", "instance": ACME, "event": "request", "session_id": "a-late"},
                  {"ts": f"{day}T00:20:00Z", "instance": ACME, "event": "logout", "session_id": "a-late"}]
        for i in range(4):
            events += _session(BOLT, f"c{i}", f"user{i}", day, f"14:0{i}:00", "14:15:00", logout="14:45:00")
        events += _session(ACME, "a9", "user1", day, "08:00:00", "08:10:00")
        return events
    if n == 3:
        day = "2026-10-07"
        return _session(ACME, "a10", "user2", day, "11:00:00", "11:05:00", logout="11:20:00")
    raise ValueError(n)


DAYS = {1: "2026-10-05", 2: "2026-10-06", 3: "2026-10-07"}


def write_day(logs: Path, n: int, name: str | None = None) -> Path:
    """Write day N's file into LOGS (JSON Lines, named by its UTC date unless NAME is given)."""
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / (name or f"{DAYS[n]}.jsonl")
    path.write_text("".join(json.dumps(e) + "\n" for e in day_events(n)), encoding="utf-8")
    return path


def write_entitlements(folder: Path, text: str = ENTITLEMENTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "entitlements.csv"
    path.write_text(text, encoding="utf-8")
    return path
