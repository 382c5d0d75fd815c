"""What an instance's monitoring views show of its true sessions, as snapshot lines.

A :class:`TrueSession` is what really happened on a server: who was logged in
from when to when, and when each request came. :func:`view_rows` is what
``Systems_Monitoring_CurrentSessions`` lists at one instant; :func:`poll_line`
and :func:`audit_log_line` write one JSON line of a snapshot file in the
format of issue 11 (the format ``auditor collect`` writes). The polling
simulation (:mod:`auditor.generate.polling`) and the tests build on these.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CURRENT_SESSIONS = "Systems_Monitoring_CurrentSessions"
AUDIT_LOG = "Systems_Monitoring_AuditLogEntries"
COLLECTOR_USER = "auditor-collector"
COLLECTOR_APPLICATION = "ERP.net auditor collector"
COLLECTOR = (COLLECTOR_USER, COLLECTOR_APPLICATION)
#: How long a request is in progress: a row counts it in CurrentRequestsCount for that long.
REQUEST_DURATION = timedelta(seconds=1)
# Traffic is not simulated request by request: each request moves this much
# (megabytes), which keeps DownloadMB and UploadMB growing as they should.
DOWNLOAD_MB_PER_REQUEST = 0.042
UPLOAD_MB_PER_REQUEST = 0.007
#: Audit-log event types, as the Domain API spells them.
LOGIN, LOGOUT, LOGIN_FAILED = "Login", "LogOut", "LoginFailed"
REFUSAL_DETAILS = "MaximumLicenseCountExceeded: the maximum number of concurrent sessions is reached"


@dataclass(frozen=True)
class TrueSession:
    """One session as it really was: alive on [start, end)."""

    session_id: str
    user: str
    start: datetime
    end: datetime
    #: When each request came, sorted, within [start, end).
    request_times: tuple[datetime, ...]
    device: str | None
    applications: str
    #: Set for service applications' sessions (one hour after the start).
    absolute_expiration: datetime | None = None
    #: Not counted against the licence (the collector's own session).
    uncounted: bool = False

    def alive_at(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class AuditEvent:
    """One authentication row of the audit log."""

    id: str
    at: datetime
    event_type: str  # LOGIN, LOGOUT or LOGIN_FAILED
    user: str
    application: str
    details: str | None = None

    def row(self) -> dict:
        row = {
            "Id": self.id,
            "EventTimeUtc": iso_ms(self.at),
            "EventClass": "Authentication",
            "EventType": self.event_type,
            "ApplicationName": self.application,
            "Details": self.details,
            "UserLogin": self.user,
        }
        return {k: v for k, v in row.items() if v is not None}


def iso_ms(at: datetime) -> str:
    """AT in UTC as the Domain API writes it: milliseconds and a 'Z' (cut, not rounded)."""
    utc = at.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def view_rows(sessions: Iterable[TrueSession], at: datetime, *, old_server: bool = False) -> list[dict]:
    """The rows ``Systems_Monitoring_CurrentSessions`` lists at AT, by start time.

    Nulls are left out (the API's compact mode). An OLD_SERVER (before
    26.1.4.3) names the user ``User`` and has no ``SessionId``.
    """
    alive = sorted((s for s in sessions if s.alive_at(at)), key=lambda s: (s.start, s.session_id))
    return [_row(s, at, old_server) for s in alive]


def _row(s: TrueSession, at: datetime, old_server: bool) -> dict:
    done = bisect.bisect_right(s.request_times, at)
    in_progress = done - bisect.bisect_right(s.request_times, at - REQUEST_DURATION)
    row: dict = {} if old_server else {"SessionId": s.session_id}
    row["User" if old_server else "UserLogin"] = s.user
    row["StartTime"] = iso_ms(s.start)
    row["LastRequestTime"] = iso_ms(s.request_times[done - 1] if done else s.start)
    if s.absolute_expiration is not None:
        row["AbsoluteExpirationTime"] = iso_ms(s.absolute_expiration)
    row["Applications"] = s.applications
    if s.device is not None:
        row["Device"] = s.device
    row["CurrentRequestsCount"] = in_progress
    row["TotalRequestsCount"] = done
    row["DownloadMB"] = round(done * DOWNLOAD_MB_PER_REQUEST, 3)
    row["UploadMB"] = round(done * UPLOAD_MB_PER_REQUEST, 3)
    return row


def poll_line(
    instance: str,
    polled_at: datetime,
    rows: Sequence[dict] | None = None,
    error: str | None = None,
    collector: tuple[str, str] = COLLECTOR,
) -> str:
    """One line of a snapshot file: a successful poll (ROWS) or a failed one (ERROR)."""
    if (rows is None) == (error is None):
        raise ValueError("a poll line has either rows or an error")
    return _line(instance, CURRENT_SESSIONS, polled_at, collector, {"rows": list(rows)} if rows is not None else {"error": error})


def audit_log_line(
    instance: str, polled_at: datetime, entries: Iterable[AuditEvent | dict], collector: tuple[str, str] = COLLECTOR
) -> str:
    """One line of audit-log rows read at POLLED_AT (entries given as AuditEvent or as finished rows)."""
    rows = [e.row() if isinstance(e, AuditEvent) else e for e in entries]
    return _line(instance, AUDIT_LOG, polled_at, collector, {"rows": rows})


def _line(instance: str, entity_set: str, polled_at: datetime, collector: tuple[str, str], body: dict) -> str:
    user, application = collector
    record = {
        "instance": instance,
        "entity_set": entity_set,
        "polled_at": iso_ms(polled_at),
        "collector": {"user": user, "application": application},
        **body,
    }
    return json.dumps(record, ensure_ascii=False)
