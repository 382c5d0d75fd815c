"""A local ERP.net Domain API for the collector's tests and benchmark: a real HTTP server on 127.0.0.1.

It implements the subset ``auditor collect`` uses (``erpnet-native-sources.md``):
``POST /id/connect/token`` (client credentials, tokens that expire), the
sessions view with server-driven paging (``@odata.nextLink``), the audit log
with ``$filter`` (``eq``/``ge``/``and``, datetimes optionally cut to the date as
one documentation page warns), ``$orderby``, ``$top``, ``$expand=User``, servers
that know only the entity-set names from before 24.1.5.35, and faults queued by
a test: 429 with or without ``Retry-After``, 503, 500 with a JSON body, 401, an
answer slower than the client's timeout. Each instance lives under its own path
prefix: base_url ``http://127.0.0.1:PORT/NAME``.

Run on its own (the benchmark does) it serves N instances and prints its port:
``python tests/domain_api_server.py --instances 1000 --latency 0.15``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

CURRENT = "Systems_Monitoring_CurrentSessions"
OLD_CURRENT = "Systems_Dmv_CurrentSessions"
AUDIT = "Systems_Monitoring_AuditLogEntries"
OLD_AUDIT = "Systems_Core_AuditLogEntries"


@dataclass
class Fault:
    """What the next data request (or token request, with ``on_token``) gets instead of its answer."""

    status: int = 0  # 0: no status of its own (a delay only)
    retry_after: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0
    on_token: bool = False


@dataclass
class Request:
    method: str
    entity: str | None
    query: dict[str, str]
    at: float  # time.time() when it arrived
    status: int = 0


@dataclass
class SimInstance:
    """One simulated instance; tests change its fields between polls."""

    name: str
    client_id: str = "https://auditor.example.com"
    secret: str = "s3cret-value"
    #: The sessions view at an instant (UTC): the rows it lists.
    sessions: Callable[[datetime], list[dict[str, Any]]] = lambda at: []
    audit_log: list[dict[str, Any]] = field(default_factory=list)
    #: The server's own page size (it may page below $top).
    page_size: int = 1000
    #: Only the names of servers before 24.1.5.35.
    old_names: bool = False
    #: Datetime literals in $filter are cut to their date.
    cut_dates: bool = False
    #: expires_in the token answer reports, and how long the server actually honours a token.
    expires_in: int = 3600
    token_valid_for: float = 3600.0
    #: Added to every answer, in seconds.
    latency: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    #: Kept short in long runs (the benchmark): only the last N requests.
    keep_requests: int = 100_000

    def entity_sets(self) -> tuple[str, str]:
        return (OLD_CURRENT, OLD_AUDIT) if self.old_names else (CURRENT, AUDIT)


class DomainApi:
    """The aiohttp application over a dict of SimInstance."""

    def __init__(self, instances: dict[str, SimInstance] | None = None) -> None:
        self.instances: dict[str, SimInstance] = instances or {}
        #: Requests being answered over all instances, and the most at once.
        self.in_flight = 0
        self.max_in_flight = 0
        self.app = web.Application()
        self.app.router.add_post("/{instance}/id/connect/token", self.token)
        self.app.router.add_get("/{instance}/api/domain/odata/{entity}", self.odata)

    def add(self, inst: SimInstance) -> SimInstance:
        self.instances[inst.name] = inst
        return inst

    async def _enter(self, inst: SimInstance, req: Request) -> None:
        inst.requests.append(req)
        if len(inst.requests) > inst.keep_requests:
            del inst.requests[: len(inst.requests) - inst.keep_requests]
        inst.in_flight += 1
        inst.max_in_flight = max(inst.max_in_flight, inst.in_flight)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if inst.latency:
            await asyncio.sleep(inst.latency)

    async def _fault(self, inst: SimInstance, token: bool, req: Request) -> web.Response | None:
        if not inst.faults or inst.faults[0].on_token != token:
            return None
        fault = inst.faults.pop(0)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if not fault.status:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        req.status = fault.status
        if fault.body is not None:
            return web.json_response(fault.body, status=fault.status, headers=headers)
        return web.Response(status=fault.status, headers=headers)

    async def token(self, request: web.Request) -> web.Response:
        inst = self.instances.get(request.match_info["instance"])
        if inst is None:
            raise web.HTTPNotFound()
        req = Request("POST", None, {}, time.time())
        try:
            await self._enter(inst, req)
            faulty = await self._fault(inst, True, req)
            if faulty is not None:
                return faulty
            form = await request.post()
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("scope") != "read"
                or form.get("client_id") != inst.client_id
                or form.get("client_secret") != inst.secret
            ):
                req.status = 400
                return web.json_response({"error": "invalid_client"}, status=400)
            value = secrets.token_hex(16)
            inst.tokens[value] = time.monotonic() + inst.token_valid_for
            req.status = 200
            return web.json_response({"access_token": value, "expires_in": inst.expires_in, "token_type": "Bearer", "scope": "read"})
        finally:
            inst.in_flight -= 1
            self.in_flight -= 1

    async def odata(self, request: web.Request) -> web.Response:
        inst = self.instances.get(request.match_info["instance"])
        if inst is None:
            raise web.HTTPNotFound()
        entity = request.match_info["entity"]
        req = Request("GET", entity, dict(request.query), time.time())
        try:
            await self._enter(inst, req)
            faulty = await self._fault(inst, False, req)
            if faulty is not None:
                return faulty
            auth = request.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ")
            if inst.tokens.get(token, 0) < time.monotonic():
                req.status = 401
                return web.json_response({"message": "The access token is invalid or has expired.", "code": "Unauthorized"}, status=401)
            sessions_set, audit_set = inst.entity_sets()
            if entity == sessions_set:
                rows = inst.sessions(datetime.now(timezone.utc))
            elif entity == audit_set:
                rows = self._audit_rows(inst, request.query)
            else:
                req.status = 404
                return web.json_response({"message": f"Entity set {entity} not found.", "code": "NotFound"}, status=404)
            skip = int(request.query.get("$skiptoken", "0"))
            top = int(request.query.get("$top", "1000"))
            size = min(top, inst.page_size)
            page = rows[skip : skip + size]
            body: dict[str, Any] = {"@odata.context": f"{request.url.origin()}/{inst.name}/api/domain/odata/$metadata#{entity}", "value": page}
            if skip + size < len(rows):
                query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
                query["$skiptoken"] = str(skip + size)
                body["@odata.nextLink"] = str(request.url.with_query(query))
            req.status = 200
            return web.json_response(body)
        finally:
            inst.in_flight -= 1
            self.in_flight -= 1

    def _audit_rows(self, inst: SimInstance, query: Any) -> list[dict[str, Any]]:
        rows = list(inst.audit_log)
        text = query.get("$filter", "")
        for clause in filter(None, (c.strip() for c in text.split(" and "))):
            match = re.fullmatch(r"(\w+) (eq|ge|le) (.+)", clause)
            if not match:
                raise web.HTTPBadRequest(text=json.dumps({"message": f"bad filter {clause}"}), content_type="application/json")
            attr, op, literal = match.groups()
            value: Any = literal.strip("'")
            get: Callable[[dict[str, Any]], Any] = lambda r, attr=attr: str(r.get(attr))
            if attr == "EventTimeUtc":
                # Compared as instants, or as dates by a server that cuts datetimes to the date.
                value = value[:10] if inst.cut_dates else _instant(value)
                get = (lambda r: str(r.get("EventTimeUtc"))[:10]) if inst.cut_dates else (lambda r: _instant(r["EventTimeUtc"]))
            if op == "eq":
                rows = [r for r in rows if get(r) == value]
            elif op == "ge":
                rows = [r for r in rows if get(r) >= value]
            else:
                rows = [r for r in rows if get(r) <= value]
        if query.get("$orderby"):
            keys = [k.strip() for k in query["$orderby"].split(",")]
            rows.sort(key=lambda r: tuple(str(r.get(k)) for k in keys))
        if "User(" in query.get("$expand", ""):
            rows = [{**{k: v for k, v in r.items() if k != "UserLogin"}, "User": {"Login": r.get("UserLogin")}} for r in rows]
        return rows


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ServerThread:
    """The API served from a thread of its own on 127.0.0.1 (any free port); a context manager."""

    def __init__(self, api: DomainApi) -> None:
        self.api = api
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._runner = web.AppRunner(self.api.app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def base_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def fixed_sessions(n: int, *, prefix: str = "s") -> Callable[[datetime], list[dict[str, Any]]]:
    """N sessions that are always there (the benchmark's instances)."""
    rows = [
        {
            "SessionId": f"{prefix}{i:04d}",
            "UserLogin": f"user{i}",
            "StartTime": "2026-11-02T07:00:00.000Z",
            "LastRequestTime": "2026-11-02T07:59:00.000Z",
            "Applications": "ERP.net Web Client",
            "Device": f"PC-{i}",
            "CurrentRequestsCount": 0,
            "TotalRequestsCount": 10 + i,
            "DownloadMB": 1.5,
            "UploadMB": 0.25,
        }
        for i in range(n)
    ]
    return lambda at: rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--sessions", type=int, default=12, help="sessions per instance")
    parser.add_argument("--pages", type=int, default=2, help="pages the sessions view comes in")
    args = parser.parse_args()
    api = DomainApi()
    page = -(-args.sessions // args.pages)
    for i in range(args.instances):
        api.add(SimInstance(f"i{i:04d}.my.erp.net", sessions=fixed_sessions(args.sessions), page_size=page,
                            latency=args.latency, keep_requests=10))

    async def serve() -> None:
        runner = web.AppRunner(api.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
