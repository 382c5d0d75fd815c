"""The collector's lines are the generator's lines: same format, same audit.

A simulated instance (``auditor.generate.snapshots``: true sessions and what the
view lists at an instant) is served by the local Domain API and polled by the
collector every second. The generator writes its own file for the same sessions
at the same ``polled_at`` instants. The lines must be equal as JSON; and, once the
warehouse reads snapshots, both files ingested and audited must give the same
sessions and usage steps.
"""

from __future__ import annotations

import csv
import json
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from collect_support import SECRET, config_for, new_server, read_lines, run_collector
from domain_api_server import SimInstance

from auditor.generate.snapshots import COLLECTOR_APPLICATION, COLLECTOR_USER, TrueSession, audit_log_line, poll_line, view_rows
from auditor.tables import SESSIONS

NAME = "sim.my.erp.net"
SNAPSHOT_SUPPORT = "end_ts_min" in SESSIONS.columns


def true_sessions(t0: datetime) -> list[TrueSession]:
    """Sessions that start and end half-way between the polls (on whole seconds), so the poll instants are unambiguous."""
    s = lambda k: t0 + timedelta(seconds=k)  # noqa: E731

    def session(sid: str, user: str, start: float, end: float, apps: str = "ERP.net Web Client", **kw) -> TrueSession:
        return TrueSession(sid, user, s(start), s(end), (s(start), s(start + 0.25)), f"PC-{user}", apps, **kw)

    return [
        session("a", "mia", 0.5, 3.5),
        session("b", "ben", -100, 2.5),
        session("c", "svc", 1.5, 4.5, "Integration Service", absolute_expiration=s(4.5)),
        session("d", "zoe", 2.5, 600),
        session("own", COLLECTOR_USER, -10, 600, COLLECTOR_APPLICATION, uncounted=True),
    ]


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    """(collector's dir, generator's dir, sessions): five or six polls of the simulated instance."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    t0 = datetime.fromtimestamp(math.ceil(time.time()) + 1, timezone.utc)
    sessions = true_sessions(t0)
    with new_server() as server:
        server.api.add(SimInstance(NAME, secret=SECRET, sessions=lambda at: view_rows(sessions, at), page_size=2))
        stop_after = (t0 + timedelta(seconds=5.6)).timestamp() - time.time()
        run_collector(config_for(server, tmp, [NAME], every="1s"), tmp / "collected", once=False, stop_after=stop_after)
    generated = tmp / "generated" / NAME
    generated.mkdir(parents=True)
    with open(generated / "polls.jsonl", "w", encoding="utf-8") as f:
        for line in read_lines(tmp / "collected", NAME):
            at = datetime.fromisoformat(line["polled_at"].replace("Z", "+00:00"))
            if line["entity_set"] == "Systems_Monitoring_AuditLogEntries":
                f.write(audit_log_line(NAME, at, line["rows"]) + "\n")
            else:
                f.write(poll_line(NAME, at, view_rows(sessions, at)) + "\n")
    return tmp / "collected", tmp / "generated", sessions


def test_collector_lines_equal_the_generators(polled) -> None:
    collected, generated, _ = polled
    ours = read_lines(collected, NAME)
    theirs = [json.loads(text) for text in (generated / NAME / "polls.jsonl").read_text().splitlines()]
    assert len([line for line in ours if line["entity_set"] == "Systems_Monitoring_CurrentSessions"]) >= 5
    assert ours == theirs
    # Every session was listed by some poll, and the paging (two rows a page) lost none.
    seen = {row["SessionId"] for line in ours for row in line.get("rows", []) if "SessionId" in row}
    assert seen == {"a", "b", "c", "d", "own"}


def table(invoke, warehouse: Path, sql: str) -> list[dict]:
    result = invoke("sql", "--warehouse", warehouse, "--format", "csv", sql)
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(result.stdout.splitlines()))


def test_collected_files_ingest_without_a_reject(polled, invoke, tmp_path: Path) -> None:
    collected, generated, _ = polled
    probe = invoke("ingest", "--warehouse", tmp_path / "probe", generated)
    if table(invoke, tmp_path / "probe", "SELECT count(*) AS n FROM rejects") != [{"n": "0"}]:
        pytest.skip("ingest does not read snapshot files yet (it rejects the generator's lines too)")
    assert probe.exit_code == 0
    ingest = invoke("ingest", "--warehouse", tmp_path / "wh", collected)
    assert ingest.exit_code == 0, ingest.output
    assert table(invoke, tmp_path / "wh", "SELECT count(*) AS n FROM rejects") == [{"n": "0"}]
    polls = table(invoke, tmp_path / "wh", "SELECT count(*) AS n FROM polls")
    assert int(polls[0]["n"]) >= 5


@pytest.mark.skipif(not SNAPSHOT_SUPPORT, reason="the warehouse has no snapshot support yet (issue 11's engine)")
def test_collected_and_generated_files_audit_the_same(polled, invoke, tmp_path: Path) -> None:
    collected, generated, _ = polled
    entitlements = tmp_path / "entitlements.csv"
    entitlements.write_text(
        "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n"
        f"{NAME},Sim Ltd,small-business-basic,0,2020-01-01,,UTC,am@example.com\n"
    )
    results = []
    for name, folder in (("c", collected), ("g", generated)):
        warehouse = tmp_path / f"wh-{name}"
        ingest = invoke("ingest", "--warehouse", warehouse, folder)
        assert ingest.exit_code == 0, ingest.output
        assert table(invoke, warehouse, "SELECT count(*) AS n FROM rejects") == [{"n": "0"}]
        audit = invoke("audit", "--warehouse", warehouse, "--entitlements", entitlements)
        assert audit.exit_code == 0, audit.output
        results.append((
            table(invoke, warehouse, "SELECT * FROM sessions ORDER BY instance, start_ts, session_id, segment"),
            table(invoke, warehouse, "SELECT * FROM usage_steps ORDER BY instance, step_start"),
        ))
    assert results[0] == results[1]
    sessions, steps = results[0]
    assert {s["session_id"] for s in sessions} >= {"a", "b", "c", "d", "own"}
    assert steps
