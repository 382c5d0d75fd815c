"""Helpers for the snapshot ingest tests: poll lines in issue 11's format, tables read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.ingest import IngestResult, ingest
from auditor.warehouse import Warehouse
from tests.ingest_support import rows

INSTANCE = "acme.my.erp.net"
COLLECTOR = {"user": "auditor-collector", "application": "ERP.net auditor collector"}


def session(sid: str | None = "s1", user: str = "mia", start: str = "2026-11-02T07:41:12.000Z", **more: Any) -> dict[str, Any]:
    row: dict[str, Any] = {} if sid is None else {"SessionId": sid}
    row.update({"UserLogin": user, "StartTime": start, "LastRequestTime": "2026-11-02T08:04:51.000Z",
                "Applications": "ERP.net Web Client", "Device": "LAPTOP-7", "CurrentRequestsCount": 0,
                "TotalRequestsCount": 57, "DownloadMB": 3.2, "UploadMB": 0.4})
    row.update(more)
    return row


def poll(polled_at: str, sessions: list[dict[str, Any]] | None = None, *, instance: str = INSTANCE,
         error: str | None = None, entity_set: str = "Systems_Monitoring_CurrentSessions") -> str:
    line: dict[str, Any] = {"instance": instance, "entity_set": entity_set, "polled_at": polled_at, "collector": COLLECTOR}
    if error is not None:
        line["error"] = error
    else:
        line["rows"] = sessions or []
    return json.dumps(line)


def entry(entry_id: str, at: str, event_type: str = "Login", user: str = "mia", **more: Any) -> dict[str, Any]:
    return {"Id": entry_id, "EventTimeUtc": at, "EventClass": "Authentication", "EventType": event_type,
            "ApplicationName": "ERP.net Web Client", "Details": None, "UserLogin": user, **more}


def audit_line(polled_at: str, entries: list[dict[str, Any]], *, instance: str = INSTANCE,
               entity_set: str = "Systems_Monitoring_AuditLogEntries") -> str:
    return json.dumps({"instance": instance, "entity_set": entity_set, "polled_at": polled_at, "collector": COLLECTOR,
                       "rows": entries})


def run(tmp_path: Path, *paths: Path, name: str = "wh") -> tuple[Warehouse, IngestResult]:
    wh = Warehouse.open(tmp_path / name, create=True)
    return wh, ingest(wh, list(paths))


def table(wh: Warehouse, name: str, order: str) -> list[dict[str, Any]]:
    con = wh.connect()
    try:
        cur = con.execute(f"SELECT * FROM {name} ORDER BY {order}")
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, r)) for r in cur.fetchall()]
    finally:
        con.close()


def rejects(wh: Warehouse) -> list[tuple[str, int, str, str]]:
    return [(Path(f).name, line, reason, raw) for f, line, reason, raw in
            rows(wh, "SELECT file, line, reason, raw FROM rejects ORDER BY file, line")]
