"""The snapshot generator: what the monitoring views show of true sessions, and the sample's polled instance."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from auditor.generate.snapshots import (
    AUDIT_LOG,
    CURRENT_SESSIONS,
    LOGIN_FAILED,
    AuditEvent,
    TrueSession,
    audit_log_line,
    iso_ms,
    poll_line,
    view_rows,
)

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
