"""Helpers for the collector's tests: a configuration for a local server, and the snapshot format's checks."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from domain_api_server import ServerThread

from auditor.collect import CollectStats, Collector, load_config

SECRET = "s3cret-value"
SECRET_ENV = "AUDITOR_TEST_CLIENT_SECRET"
COLLECTOR_USER = "auditor-collector"
COLLECTOR_APP = "ERP.net auditor collector"
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def write_config(
    path: Path,
    instances: Iterable[tuple[str, str]],
    *,
    every: str = "5s",
    timeout: str = "2s",
    extra: str = "",
) -> Path:
    """A collect.toml for INSTANCES, pairs of (name, base_url); the secret comes from SECRET_ENV."""
    text = (
        "[defaults]\n"
        f'every = "{every}"\n'
        f'timeout = "{timeout}"\n'
        'client_id = "https://auditor.example.com"\n'
        f'client_secret_env = "{SECRET_ENV}"\n'
        f'collector_user = "{COLLECTOR_USER}"\n'
        f'collector_application = "{COLLECTOR_APP}"\n'
        f"{extra}"
    )
    for name, url in instances:
        text += f'\n[[instances]]\nname = "{name}"\nbase_url = "{url}"\n'
    path.write_text(text, encoding="utf-8")
    return path


def config_for(server: ServerThread, tmp: Path, names: Iterable[str], **kwargs: Any) -> Path:
    return write_config(tmp / "collect.toml", [(n, server.base_url(n)) for n in names], **kwargs)


def run_collector(config: Path, out: Path, *, once: bool = True, stop_after: float | None = None,
                  every: timedelta | None = None, concurrency: int = 32) -> tuple[CollectStats, list[str]]:
    """Run the collector in this process: one round, or until STOP_AFTER seconds; (stats, log lines)."""
    logged: list[str] = []
    collector = Collector(load_config(config, {SECRET_ENV: SECRET}), out, every=every, concurrency=concurrency, log=logged.append)

    async def main() -> CollectStats:
        if stop_after is not None:
            asyncio.get_running_loop().call_later(stop_after, collector.stop.set)
        return await collector.run(once)

    return asyncio.run(main()), logged


def read_lines(out: Path, instance: str) -> list[dict[str, Any]]:
    """Every line written for INSTANCE, file by file (days in order), each checked against the format."""
    lines = []
    for path in sorted((out / instance).glob("*.jsonl")):
        raw = path.read_bytes()
        assert raw.endswith(b"\n"), path
        for text in raw.decode("utf-8").splitlines():
            line = json.loads(text)
            check_line(line)
            assert path.name == line["polled_at"][:10] + ".jsonl"
            lines.append(line)
    return lines


def sessions_lines(out: Path, instance: str) -> list[dict[str, Any]]:
    return [line for line in read_lines(out, instance) if line["entity_set"] == "Systems_Monitoring_CurrentSessions"]


def audit_lines(out: Path, instance: str) -> list[dict[str, Any]]:
    return [line for line in read_lines(out, instance) if line["entity_set"] == "Systems_Monitoring_AuditLogEntries"]


def check_line(line: dict[str, Any]) -> None:
    """Issue 11's snapshot line, as a JSON schema would check it."""
    assert set(line) in (
        {"instance", "entity_set", "polled_at", "collector", "rows"},
        {"instance", "entity_set", "polled_at", "collector", "error"},
    ), sorted(line)
    assert isinstance(line["instance"], str) and line["instance"]
    assert line["entity_set"] in ("Systems_Monitoring_CurrentSessions", "Systems_Monitoring_AuditLogEntries")
    assert TS.match(line["polled_at"]), line["polled_at"]
    assert line["collector"] == {"user": COLLECTOR_USER, "application": COLLECTOR_APP}
    if "error" in line:
        assert isinstance(line["error"], str) and line["error"] and "\n" not in line["error"]
        return
    assert isinstance(line["rows"], list)
    for row in line["rows"]:
        assert isinstance(row, dict) and not any(k.startswith("@") for k in row)
        if line["entity_set"] == "Systems_Monitoring_CurrentSessions":
            assert "UserLogin" in row or "User" in row
            assert isinstance(row["StartTime"], str)
        else:
            assert {"Id", "EventTimeUtc", "EventClass", "EventType"} <= set(row) and "User" not in row


def new_server():
    """A DomainApi served on 127.0.0.1 for a module's tests (each test adds instances of its own names)."""
    from domain_api_server import DomainApi

    return ServerThread(DomainApi())


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (taken and released at once)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
