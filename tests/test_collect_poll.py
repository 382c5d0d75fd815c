"""The collector against a local Domain API over the loopback: tokens, pages, old names, faults, limits."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from collect_support import SECRET, free_port, audit_lines, config_for, new_server, read_lines, run_collector, sessions_lines
from domain_api_server import DomainApi, Fault, ServerThread, SimInstance, fixed_sessions

from auditor.collect.poll import PAGE_SIZE, WATERMARK_FILE


@pytest.fixture(scope="module")
def server():
    with new_server() as srv:
        yield srv


def add(server: ServerThread, name: str, **kwargs) -> SimInstance:
    api: DomainApi = server.api
    return api.add(SimInstance(name, secret=SECRET, **kwargs))


def gets(inst: SimInstance) -> list[tuple[str | None, int]]:
    return [(r.entity, r.status) for r in inst.requests if r.method == "GET"]


def test_one_poll_reads_every_page_following_next_link(server, tmp_path: Path) -> None:
    inst = add(server, "paged", sessions=fixed_sessions(5), page_size=2)
    before = datetime.now(timezone.utc)
    stats, logged = run_collector(config_for(server, tmp_path, ["paged"]), tmp_path / "out")
    assert logged == [] and stats.failed == 0
    (line,) = sessions_lines(tmp_path / "out", "paged")
    assert [row["SessionId"] for row in line["rows"]] == ["s0000", "s0001", "s0002", "s0003", "s0004"]
    data = [r for r in inst.requests if r.entity == "Systems_Monitoring_CurrentSessions"]
    assert [r.query.get("$skiptoken") for r in data] == [None, "2", "4"]
    assert data[0].query["$top"] == str(PAGE_SIZE)
    # polled_at is when the first page's request went out.
    polled_at = datetime.fromisoformat(line["polled_at"].replace("Z", "+00:00"))
    assert before - timedelta(milliseconds=1) <= polled_at <= datetime.fromtimestamp(data[0].at, timezone.utc) + timedelta(milliseconds=1)
    assert inst.max_in_flight == 1


def test_token_is_fetched_once_and_cached(server, tmp_path: Path) -> None:
    inst = add(server, "cached", sessions=fixed_sessions(1))
    run_collector(config_for(server, tmp_path, ["cached"], every="1s"), tmp_path / "out", once=False, stop_after=2.6)
    assert len(sessions_lines(tmp_path / "out", "cached")) >= 2
    assert [r.method for r in inst.requests].count("POST") == 1


def test_token_is_renewed_shortly_before_it_expires(server, tmp_path: Path) -> None:
    # expires_in 2 s: renewed 0.2 s before, so each poll a second later needs a new one half the time or more.
    inst = add(server, "short", sessions=fixed_sessions(1), expires_in=2, token_valid_for=2)
    run_collector(config_for(server, tmp_path, ["short"], every="1s"), tmp_path / "out", once=False, stop_after=4.6)
    lines = sessions_lines(tmp_path / "out", "short")
    assert len(lines) >= 4 and all("rows" in line for line in lines)
    assert [r.method for r in inst.requests].count("POST") >= 2
    assert all(status == 200 for _, status in gets(inst))


def test_a_401_gets_one_new_token_and_one_retry(server, tmp_path: Path) -> None:
    # The server revokes tokens after 0.5 s while promising an hour.
    inst = add(server, "revoked", sessions=fixed_sessions(1), token_valid_for=0.5)
    run_collector(config_for(server, tmp_path, ["revoked"], every="1s"), tmp_path / "out", once=False, stop_after=2.6)
    lines = sessions_lines(tmp_path / "out", "revoked")
    assert len(lines) >= 2 and all("rows" in line for line in lines)
    assert ("Systems_Monitoring_CurrentSessions", 401) in gets(inst)
    methods = [r.method for r in inst.requests]
    assert methods.count("POST") == 1 + [s for _, s in gets(inst)].count(401)


def test_a_second_401_is_an_error_line(server, tmp_path: Path) -> None:
    inst = add(server, "always401", sessions=fixed_sessions(1), token_valid_for=-1)
    stats, logged = run_collector(config_for(server, tmp_path, ["always401"]), tmp_path / "out")
    (line,) = sessions_lines(tmp_path / "out", "always401")
    assert line["error"].startswith("HTTP 401 Unauthorized: Unauthorized: The access token is invalid")
    assert [r.method for r in inst.requests] == ["POST", "GET", "POST", "GET"]
    assert stats.failed == 1 and len(logged) == 1


def test_old_entity_set_name_is_tried_once_and_kept(server, tmp_path: Path) -> None:
    inst = add(server, "oldserver", sessions=fixed_sessions(2), old_names=True)
    run_collector(config_for(server, tmp_path, ["oldserver"], every="1s"), tmp_path / "out", once=False, stop_after=2.6)
    lines = sessions_lines(tmp_path / "out", "oldserver")
    assert len(lines) >= 2 and all(len(line["rows"]) == 2 for line in lines)
    assert all(line["entity_set"] == "Systems_Monitoring_CurrentSessions" for line in lines)
    sessions = [g for g in gets(inst) if g[0] in ("Systems_Monitoring_CurrentSessions", "Systems_Dmv_CurrentSessions")]
    assert sessions[:2] == [("Systems_Monitoring_CurrentSessions", 404), ("Systems_Dmv_CurrentSessions", 200)]
    assert sessions[2:] == [("Systems_Dmv_CurrentSessions", 200)] * (len(sessions) - 2)


def test_429_with_retry_after_is_honoured(server, tmp_path: Path) -> None:
    inst = add(server, "retryafter", sessions=fixed_sessions(1), faults=[Fault(429, retry_after="1")])
    run_collector(config_for(server, tmp_path, ["retryafter"]), tmp_path / "out")
    (line,) = sessions_lines(tmp_path / "out", "retryafter")
    assert len(line["rows"]) == 1
    data = [r for r in inst.requests if r.method == "GET" and r.entity == "Systems_Monitoring_CurrentSessions"]
    assert [r.status for r in data] == [429, 200]
    assert 1.0 <= data[1].at - data[0].at < 1.6


def test_429_and_503_without_retry_after_back_off(server, tmp_path: Path) -> None:
    inst = add(server, "backoff", sessions=fixed_sessions(1), faults=[Fault(429), Fault(503), Fault(429)])
    run_collector(config_for(server, tmp_path, ["backoff"], every="20s"), tmp_path / "out")
    (line,) = sessions_lines(tmp_path / "out", "backoff")
    assert len(line["rows"]) == 1
    data = [r for r in inst.requests if r.entity == "Systems_Monitoring_CurrentSessions"]
    assert [r.status for r in data] == [429, 503, 429, 200]
    waits = [b.at - a.at for a, b in zip(data, data[1:])]
    # Exponential with jitter: 0.5–1 s, 1–2 s, 2–4 s.
    assert 0.5 <= waits[0] < 1.2 and 1.0 <= waits[1] < 2.2 and 2.0 <= waits[2] < 4.2


def test_retries_stop_within_the_interval_and_the_poll_is_failed(server, tmp_path: Path) -> None:
    inst = add(server, "throttled", sessions=fixed_sessions(1), faults=[Fault(429)] * 50)
    started = time.monotonic()
    stats, _ = run_collector(config_for(server, tmp_path, ["throttled"], every="3s"), tmp_path / "out")
    assert time.monotonic() - started < 3.0
    (line,) = sessions_lines(tmp_path / "out", "throttled")
    assert line["error"] == "HTTP 429 Too Many Requests (no retry left within the polling interval)"
    assert audit_lines(tmp_path / "out", "throttled") == []  # no audit-log read after a failed poll
    assert stats.failed == 1 and len(inst.requests) > 2


def test_a_retry_after_beyond_the_interval_is_not_waited_for(server, tmp_path: Path) -> None:
    add(server, "later", sessions=fixed_sessions(1), faults=[Fault(503, retry_after="120")])
    started = time.monotonic()
    run_collector(config_for(server, tmp_path, ["later"], every="10s"), tmp_path / "out")
    assert time.monotonic() - started < 2
    (line,) = sessions_lines(tmp_path / "out", "later")
    assert line["error"] == "HTTP 503 Service Unavailable (no retry left within the polling interval)"


def test_500_with_a_json_body_is_an_error_line(server, tmp_path: Path) -> None:
    body = {"message": f"Object reference not set (client_secret={SECRET})", "code": "InternalError", "type": "System.NullReferenceException"}
    add(server, "broken", sessions=fixed_sessions(1), faults=[Fault(500, body=body)])
    stats, logged = run_collector(config_for(server, tmp_path, ["broken"]), tmp_path / "out")
    (line,) = sessions_lines(tmp_path / "out", "broken")
    assert line["error"] == "HTTP 500 Internal Server Error: InternalError: Object reference not set (client_secret=***)"
    assert SECRET not in " ".join(logged)
    assert all(SECRET.encode() not in p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())


def test_a_response_slower_than_the_timeout_is_an_error_line(server, tmp_path: Path) -> None:
    add(server, "slow", sessions=fixed_sessions(1), faults=[Fault(delay=2.5)])
    started = time.monotonic()
    run_collector(config_for(server, tmp_path, ["slow"], timeout="1s"), tmp_path / "out")
    assert time.monotonic() - started < 2.4
    (line,) = sessions_lines(tmp_path / "out", "slow")
    assert line["error"].startswith("timeout: no answer within 1 s (GET http://127.0.0.1:")


def test_connection_refused_is_an_error_line_and_others_go_on(server, tmp_path: Path) -> None:
    unused_port = free_port()
    add(server, "alive", sessions=fixed_sessions(3))
    config = config_for(server, tmp_path, ["alive"])
    config.write_text(config.read_text() + f'\n[[instances]]\nname = "refused"\nbase_url = "http://127.0.0.1:{unused_port}"\n')
    stats, logged = run_collector(config, tmp_path / "out")
    (line,) = read_lines(tmp_path / "out", "refused")
    assert line["error"].startswith("connection failed: ConnectError") and "/id/connect/token" in line["error"]
    assert len(sessions_lines(tmp_path / "out", "alive")[0]["rows"]) == 3
    assert stats.polls == 2 and stats.failed == 1 and logged[0].startswith("refused ")


def test_wrong_secret_is_a_refused_token(server, tmp_path: Path) -> None:
    server.api.add(SimInstance("wrongsecret", secret="another"))
    run_collector(config_for(server, tmp_path, ["wrongsecret"]), tmp_path / "out")
    (line,) = read_lines(tmp_path / "out", "wrongsecret")
    assert line["error"] == "token request refused: HTTP 400 Bad Request: invalid_client"


def test_one_failing_instance_never_delays_another(server, tmp_path: Path) -> None:
    add(server, "stuck", sessions=fixed_sessions(1), faults=[Fault(delay=1.5)])
    add(server, "quick", sessions=fixed_sessions(1))
    run_collector(config_for(server, tmp_path, ["stuck", "quick"], timeout="1s"), tmp_path / "out")
    quick = sessions_lines(tmp_path / "out", "quick")[0]
    stuck = sessions_lines(tmp_path / "out", "stuck")[0]
    assert "rows" in quick and "error" in stuck
    quick_file = tmp_path / "out" / "quick" / f"{quick['polled_at'][:10]}.jsonl"
    stuck_file = tmp_path / "out" / "stuck" / f"{stuck['polled_at'][:10]}.jsonl"
    assert quick_file.stat().st_mtime_ns < stuck_file.stat().st_mtime_ns - 500_000_000


def test_concurrency_caps_requests_in_flight(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(8)]
    with ServerThread(DomainApi()) as srv:
        for name in names:
            srv.api.add(SimInstance(name, secret=SECRET, sessions=fixed_sessions(4), page_size=2, latency=0.1))
        run_collector(config_for(srv, tmp_path, names), tmp_path / "out", concurrency=3)
        assert srv.api.max_in_flight == 3
        assert all(inst.max_in_flight == 1 for inst in srv.api.instances.values())
    assert all(len(sessions_lines(tmp_path / "out", n)[0]["rows"]) == 4 for n in names)


def audit_row(i: int, at: datetime, event: str = "Login") -> dict:
    return {
        "Id": f"00000000-0000-0000-0000-{i:012d}",
        "EventTimeUtc": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "EventClass": "Authentication",
        "EventType": event,
        "EventName": event,
        "ApplicationName": "ERP.net Web Client",
        "Details": "MaximumLicenseCountExceeded" if event == "LoginFailed" else "",
        "UserLogin": f"user{i % 7}",
    }


@pytest.mark.parametrize("cut_dates", [False, True])
def test_audit_log_keyset_paging_watermark_and_restart(server, tmp_path: Path, cut_dates: bool) -> None:
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    # Yesterday's rows are before the first watermark (today); today's are more than two pages.
    old = [audit_row(i, today - timedelta(hours=2)) for i in range(3)]
    rows = [audit_row(100 + i, today + timedelta(seconds=i // 3)) for i in range(PAGE_SIZE * 2 + 50)]
    other = {"EventClass": "Entity", "Id": "entity-row", "EventTimeUtc": rows[5]["EventTimeUtc"], "EventType": "Update"}
    name = f"audit{int(cut_dates)}"
    inst = add(server, name, audit_log=old + rows + [other], cut_dates=cut_dates, page_size=PAGE_SIZE)
    out = tmp_path / "out"
    run_collector(config_for(server, tmp_path, [name]), out)
    (line,) = audit_lines(out, name)
    assert [r["Id"] for r in line["rows"]] == [r["Id"] for r in rows]
    assert line["rows"][0]["UserLogin"] == "user2"
    filters = [r.query.get("$filter") for r in inst.requests if r.entity == "Systems_Monitoring_AuditLogEntries"]
    assert filters[0] == f"EventClass eq 'Authentication' and EventTimeUtc ge {today:%Y-%m-%d}T00:00:00Z"
    if not cut_dates:
        # Keyset: the next page starts at the last time read.
        assert filters[1] == f"EventClass eq 'Authentication' and EventTimeUtc ge {rows[PAGE_SIZE - 1]['EventTimeUtc']}"
    # A restart within the hour does not read the audit log again; an hour later it reads only new rows.
    run_collector(config_for(server, tmp_path, [name]), out)
    assert len(audit_lines(out, name)) == 1
    mark = out / name / WATERMARK_FILE
    mark.write_text(mark.read_text().replace(f'"fetched_at": "{today:%Y-%m-%d}', '"fetched_at": "2000-01-01'))
    inst.audit_log.append(audit_row(9999, datetime.now(timezone.utc), "LoginFailed"))
    run_collector(config_for(server, tmp_path, [name]), out)
    lines = audit_lines(out, name)
    assert len(lines) == 2 and [r["Id"] for r in lines[1]["rows"]] == [audit_row(9999, today)["Id"]]


def test_a_failed_audit_log_read_keeps_the_watermark(server, tmp_path: Path) -> None:
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    inst = add(server, "auditfail", audit_log=[audit_row(1, today)])
    out = tmp_path / "out"
    # The sessions poll succeeds; the audit log's read gets a 500.
    inst.faults = [Fault(delay=0.0), Fault(500, body={"message": "boom", "code": "X"})]
    run_collector(config_for(server, tmp_path, ["auditfail"]), out)
    assert audit_lines(out, "auditfail")[0]["error"] == "HTTP 500 Internal Server Error: X: boom"
    assert not (out / "auditfail" / WATERMARK_FILE).exists()
    run_collector(config_for(server, tmp_path, ["auditfail"]), out)
    assert [r["Id"] for r in audit_lines(out, "auditfail")[1]["rows"]] == [audit_row(1, today)["Id"]]
