"""One poll of an instance: the sessions its view lists now, and the audit log's new logins.

Both produce one snapshot line (issue 11's format): ``rows`` when every page
came, ``error`` otherwise — a half-read view would look like sessions that ended.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from auditor.collect.client import InstanceClient, PollFailed, utc_now
from auditor.collect.writer import format_ts

ODATA_ROOT = "/api/domain/odata/"
SESSIONS = "Systems_Monitoring_CurrentSessions"
AUDIT_LOG = "Systems_Monitoring_AuditLogEntries"
#: The names the entity sets had before ERP.net 24.1.5.35; tried once when a server does not know the new one.
OLD_NAMES = {SESSIONS: "Systems_Dmv_CurrentSessions", AUDIT_LOG: "Systems_Core_AuditLogEntries"}
#: Rows per page asked for (the Domain API's maximum).
PAGE_SIZE = 1000
#: How often the audit log is read.
AUDIT_LOG_EVERY = timedelta(hours=1)
#: The file under DIR/INSTANCE that keeps the audit log's watermark across restarts.
WATERMARK_FILE = ".audit-log-watermark.json"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class EntitySets:
    """The entity-set name each instance answered to (the new one until a server says it does not know it)."""

    names: dict[str, str] = field(default_factory=dict)

    def current(self, entity_set: str) -> str:
        return self.names.get(entity_set, entity_set)


def _line(client: InstanceClient, entity_set: str, polled_at: datetime) -> dict[str, Any]:
    inst = client.instance
    return {
        "instance": inst.name,
        "entity_set": entity_set,
        "polled_at": format_ts(polled_at),
        "collector": {"user": inst.collector_user, "application": inst.collector_application},
    }


async def _first_page(
    client: InstanceClient, sets: EntitySets, entity_set: str, params: dict[str, str], deadline: float
) -> tuple[dict[str, Any], datetime, str]:
    """The first page of ENTITY_SET with PARAMS: (the answer, when its request was sent, its URL).

    A 404 under the new name gets one try with the name of servers before 24.1.5.35,
    which the instance keeps from then on.
    """
    name = sets.current(entity_set)
    url = client.url(ODATA_ROOT + name)
    try:
        body, sent_at = await client.get_json(url, params, deadline)
    except PollFailed as exc:
        old = OLD_NAMES.get(entity_set)
        if exc.status != 404 or old is None or name == old:
            raise
        url = client.url(ODATA_ROOT + old)
        body, sent_at = await client.get_json(url, params, deadline)
        sets.names[entity_set] = old
    return body, sent_at, url


async def _get_all(
    client: InstanceClient, sets: EntitySets, entity_set: str, params: dict[str, str], deadline: float
) -> tuple[list[dict[str, Any]], datetime]:
    """Every page of ENTITY_SET with PARAMS, following ``@odata.nextLink``: the rows, and when the first was asked for."""
    body, sent_at, url = await _first_page(client, sets, entity_set, params, deadline)
    rows = _rows(body)
    followed = {url}
    while (link := _next_link(url, body)) is not None:
        if link in followed:
            raise PollFailed("the server's @odata.nextLink points back to a page already read")
        followed.add(link)
        url = link
        body, _ = await client.get_json(link, None, deadline)
        rows.extend(_rows(body))
    return rows, sent_at


def _next_link(url: str, body: dict[str, Any]) -> str | None:
    """The answer's nextLink, opaque: joined to the URL it came with (it may be relative), never taken apart."""
    link = body.get("@odata.nextLink")
    return str(httpx.URL(url).join(link)) if isinstance(link, str) and link else None


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("value")
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise PollFailed("the answer is not an OData collection (no 'value' list of objects)")
    # Annotations (@odata.etag …) are not attributes of the view.
    return [{k: v for k, v in row.items() if not k.startswith("@")} for row in value]


async def poll_sessions(client: InstanceClient, sets: EntitySets, deadline: float) -> tuple[datetime, dict[str, Any]]:
    """One poll of the sessions view: (polled_at, line). Never raises PollFailed: a failure is an ``error`` line.

    ``polled_at`` is when the request that read the view's first page was sent; a
    failed poll is dated by its first request.
    """
    client.first_sent_at = None
    try:
        rows, sent_at = await _get_all(client, sets, SESSIONS, {"$top": str(PAGE_SIZE)}, deadline)
    except PollFailed as exc:
        at = client.first_sent_at or utc_now()
        return at, {**_line(client, SESSIONS, at), "error": str(exc)}
    return sent_at, {**_line(client, SESSIONS, sent_at), "rows": rows}


@dataclass
class Watermark:
    """How far an instance's audit log has been written: the UTC day to read from, the Ids of that day already
    written, and when it was last read. Kept in ``DIR/INSTANCE/.audit-log-watermark.json``."""

    day: date
    ids: set[str]
    fetched_at: datetime | None

    @classmethod
    def load(cls, folder: Path, today: date) -> Watermark:
        try:
            doc = json.loads((folder / WATERMARK_FILE).read_text(encoding="utf-8"))
            return cls(
                date.fromisoformat(doc["day"]),
                {str(i) for i in doc.get("ids", [])},
                datetime.fromisoformat(doc["fetched_at"]) if doc.get("fetched_at") else None,
            )
        except FileNotFoundError:
            # A new instance: its audit log is read from the start of today (UTC).
            return cls(today, set(), None)
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged watermark: read today's rows again (rows already written come again; ingest dedupes them).
            return cls(today, set(), None)

    def due(self, now: datetime) -> bool:
        return self.fetched_at is None or now - self.fetched_at >= AUDIT_LOG_EVERY - timedelta(seconds=30)

    def save(self, folder: Path) -> None:
        """Write it atomically (a crash leaves the old or the new one, never half)."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (WATERMARK_FILE + ".tmp")
        doc = {"day": self.day.isoformat(), "ids": sorted(self.ids), "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / WATERMARK_FILE)


def _audit_params(since: str) -> dict[str, str]:
    return {
        "$filter": f"EventClass eq 'Authentication' and EventTimeUtc ge {since}",
        "$orderby": "EventTimeUtc,Id",
        "$expand": "User($select=Login)",
        "$top": str(PAGE_SIZE),
    }


async def poll_audit_log(
    client: InstanceClient, sets: EntitySets, mark: Watermark, deadline: float
) -> tuple[datetime, dict[str, Any], Watermark]:
    """Authentication rows since the watermark, less those already written: (polled_at, line, new watermark).

    Keyset paging on ``EventTimeUtc``: each next request asks for rows at or after the
    last time read, and rows already had are dropped by ``Id``. The documentation says
    datetime filters may be cut to the date, so the first request filters by day; when a
    server does cut a later request's time (a full page brings nothing new), its
    ``@odata.nextLink`` takes over. On failure the watermark stays as it was.
    """
    client.first_sent_at = None
    seen = set(mark.ids)
    new: list[dict[str, Any]] = []
    try:
        body, polled_at, url = await _first_page(client, sets, AUDIT_LOG, _audit_params(f"{mark.day.isoformat()}T00:00:00Z"), deadline)
        base = url
        by_link = False
        while True:
            page = _rows(body)
            fresh = [row for row in page if str(row.get("Id")) not in seen]
            for row in fresh:
                seen.add(str(row.get("Id")))
                new.append(_with_login(row))
            if len(page) < PAGE_SIZE:
                break
            link = _next_link(url, body)
            if not fresh and not by_link:
                # The server cut the time to its date: page on with its own links from here.
                by_link = True
            if by_link:
                if link is None:
                    raise PollFailed("audit log: a full page brought no new row and no @odata.nextLink to page on")
                url, params = link, None
            else:
                last = page[-1].get("EventTimeUtc")
                if not isinstance(last, str) or not _DAY.match(last):
                    raise PollFailed("audit log: a row has no EventTimeUtc to page on")
                url, params = base, _audit_params(last)
            body, _ = await client.get_json(url, params, deadline)
    except PollFailed as exc:
        at = client.first_sent_at or utc_now()
        return at, {**_line(client, AUDIT_LOG, at), "error": str(exc)}, mark
    return polled_at, {**_line(client, AUDIT_LOG, polled_at), "rows": new}, _advance(mark, new, polled_at)


def _with_login(row: dict[str, Any]) -> dict[str, Any]:
    """The row with the user's login as ``UserLogin`` (the expanded ``User`` reference flattened)."""
    out = {k: v for k, v in row.items() if k != "User"}
    user = row.get("User")
    if isinstance(user, dict):
        login = user.get("Login")
        if login is not None:
            out["UserLogin"] = login
    elif isinstance(user, str):
        out["UserLogin"] = user
    return out


def _advance(mark: Watermark, new: list[dict[str, Any]], fetched_at: datetime) -> Watermark:
    """The watermark after NEW rows were written: the latest day they reach, with the Ids of that day."""
    days = [row["EventTimeUtc"][:10] for row in new if isinstance(row.get("EventTimeUtc"), str) and _DAY.match(row["EventTimeUtc"])]
    day = max([mark.day, *(date.fromisoformat(d) for d in days)])
    if day == mark.day:
        ids = set(mark.ids) | {str(row.get("Id")) for row in new}
    else:
        ids = {str(row.get("Id")) for row in new if str(row.get("EventTimeUtc", ""))[:10] == day.isoformat()}
    return Watermark(day, ids, fetched_at.astimezone(timezone.utc))
