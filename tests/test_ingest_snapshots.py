"""Snapshot files through ingest: recognised among logs, stored once, counted, and the audit made due."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.ingest import ingest
from auditor.ingest.sources import find_sources
from auditor.warehouse import Warehouse
from tests.budget import examples
from tests.ingest_support import event, rows, write_events, write_lines
from tests.snapshot_support import (
    INSTANCE,
    audit_line,
    entry,
    poll,
    rejects,
    run,
    session,
    table,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_a_snapshot_file_is_recognised_by_its_first_line_among_logs(tmp_path: Path) -> None:
    write_lines(tmp_path / "in" / "acme" / "2026-11-02.jsonl", ["", "  ", poll("2026-11-02T08:05:00Z", [session()])])
    write_events(tmp_path / "in" / "beta.jsonl", [event(instance="beta.my.erp.net", event="login")])
    # a log whose first event happens to carry a field named like a snapshot's is still a log: only entity_set counts
    write_lines(tmp_path / "in" / "gamma.jsonl", [json.dumps(event(instance="gamma.my.erp.net", rows=[]))])
    found = {p.path.name: p.format for p in find_sources([tmp_path / "in"]).files}
    assert found == {"2026-11-02.jsonl": "snapshots", "beta.jsonl": "jsonl", "gamma.jsonl": "jsonl"}
    wh, result = run(tmp_path, tmp_path / "in")
    assert [(f.path.name, f.format, f.read, f.accepted) for f in result.files] == [
        ("beta.jsonl", "jsonl", 1, 1), ("gamma.jsonl", "jsonl", 1, 1), ("2026-11-02.jsonl", "snapshots", 1, 1)]
    assert rows(wh, "SELECT instance, count(*) FROM events GROUP BY ALL ORDER BY 1") == [
        ("beta.my.erp.net", 1), ("gamma.my.erp.net", 1)]
    assert rows(wh, "SELECT instance, listed FROM polls") == [(INSTANCE, 1)]
    assert rows(wh, "SELECT format, read, accepted, duplicates, rejected FROM ingest_log WHERE format = 'snapshots'") == [
        ("snapshots", 1, 1, 0, 0)]


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_compressed_snapshot_files(tmp_path: Path, compression: str) -> None:
    path = write_lines(tmp_path / f"acme.jsonl.{compression}", [poll("2026-11-02T08:05:00Z", [session()])], compression)
    wh, result = run(tmp_path, path)
    assert result.files[0].format == "snapshots"
    assert result.files[0].compression == {"gz": "gzip", "zst": "zstd"}[compression]
    assert rows(wh, "SELECT session_id, \"user\" FROM polled_sessions") == [("s1", "mia")]


def test_a_session_row_becomes_a_polled_session(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [poll("2026-11-02T08:05:00.123Z", [session(
        AbsoluteExpirationTime="2026-11-02T08:41:12Z", DeviceId="ignored")])])
    wh, _ = run(tmp_path, path)
    assert table(wh, "polled_sessions", "start_time") == [{
        "instance": INSTANCE, "polled_at": utc("2026-11-02T08:05:00.123Z"), "session_id": "s1", "user": "mia",
        "start_time": utc("2026-11-02T07:41:12Z"), "last_request_time": utc("2026-11-02T08:04:51Z"),
        "absolute_expiration_time": utc("2026-11-02T08:41:12Z"), "applications": "ERP.net Web Client",
        "device": "LAPTOP-7", "current_requests": 0, "total_requests": 57, "download_mb": 3.2, "upload_mb": 0.4}]
    assert table(wh, "polls", "polled_at") == [{
        "instance": INSTANCE, "polled_at": utc("2026-11-02T08:05:00.123Z"), "ok": True, "error": None, "listed": 1,
        "collector_user": "auditor-collector", "collector_application": "ERP.net auditor collector",
        "entity_set": "Systems_Monitoring_CurrentSessions"}]


def test_old_servers_rows_missing_and_null_properties_and_zones(tmp_path: Path) -> None:
    old = {"User": "ivo", "StartTime": "2026-11-02T09:41:12+02:00", "Device": None}  # no SessionId, no UserLogin
    bare = {"StartTime": "2026-11-02T07:00:00"}  # no zone: UTC
    line = json.dumps({"instance": " ACME.my.erp.net ", "entity_set": "Systems_Dmv_CurrentSessions",
                       "polled_at": "2026-11-02T08:05:00", "rows": [old, bare]})
    wh, result = run(tmp_path, write_lines(tmp_path / "a.jsonl", [line]))
    assert result.rejected == 0
    got = table(wh, "polled_sessions", "start_time")
    assert [(r["session_id"], r["user"], r["start_time"], r["device"], r["last_request_time"], r["current_requests"])
            for r in got] == [(None, None, utc("2026-11-02T07:00:00Z"), None, None, None),
                              (None, "ivo", utc("2026-11-02T07:41:12Z"), None, None, None)]
    assert rows(wh, "SELECT instance, polled_at, entity_set, collector_user FROM polls") == [
        (INSTANCE, utc("2026-11-02T08:05:00Z"), "Systems_Dmv_CurrentSessions", None)]


def test_a_failed_poll_is_kept_without_sessions(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [poll("2026-11-02T08:10:00Z", error="HTTP 503 Service Unavailable"),
                                              poll("2026-11-02T08:15:00Z", [])])
    wh, result = run(tmp_path, path)
    assert result.accepted == 2
    assert rows(wh, "SELECT polled_at, ok, error, listed FROM polls ORDER BY 1") == [
        (utc("2026-11-02T08:10:00Z"), False, "HTTP 503 Service Unavailable", None),
        (utc("2026-11-02T08:15:00Z"), True, None, 0)]
    assert rows(wh, "SELECT count(*) FROM polled_sessions") == [(0,)]


def test_the_same_poll_twice_in_a_file_and_in_another_file_is_stored_once(tmp_path: Path) -> None:
    first = poll("2026-11-02T08:05:00Z", [session("s1"), session("s2")])
    later = poll("2026-11-02T08:10:00Z", [session("s1")])
    write_lines(tmp_path / "in" / "a.jsonl", [first, first, later])
    write_lines(tmp_path / "in" / "b.jsonl", [later, poll("2026-11-02T08:05:00.000Z", [session("s9")])])
    wh, result = run(tmp_path, tmp_path / "in")
    assert [(f.read, f.accepted, f.duplicates, f.rejected) for f in result.files] == [(3, 2, 1, 0), (2, 0, 2, 0)]
    assert rows(wh, "SELECT polled_at, session_id FROM polled_sessions ORDER BY 1, 2") == [
        (utc("2026-11-02T08:05:00Z"), "s1"), (utc("2026-11-02T08:05:00Z"), "s2"), (utc("2026-11-02T08:10:00Z"), "s1")]
    # and in a later run
    write_lines(tmp_path / "more" / "c.jsonl", [first, poll("2026-11-02T08:15:00Z", [])])
    _, again = run(tmp_path, tmp_path / "more")
    assert (again.accepted, again.duplicates) == (1, 1)
    assert rows(wh, "SELECT count(*) FROM polls") == [(3,)]
    assert rows(wh, "SELECT count(*) FROM polled_sessions") == [(3,)]


def test_polls_in_any_order_across_days(tmp_path: Path) -> None:
    lines = [poll("2026-11-03T00:05:00Z", [session("b")]), poll("2026-11-01T23:55:00Z", [session("a")]),
             poll("2026-11-02T12:00:00Z", [session("c")])]
    wh, _ = run(tmp_path, write_lines(tmp_path / "a.jsonl", lines))
    assert sorted(wh.partitions("polls")) == ["date=2026-11-01", "date=2026-11-02", "date=2026-11-03"]
    assert sorted(wh.partitions("polled_sessions")) == ["date=2026-11-01", "date=2026-11-02", "date=2026-11-03"]
    # a later run adds an earlier poll to an existing date, which stays sorted
    run(tmp_path, write_lines(tmp_path / "b.jsonl", [poll("2026-11-02T06:00:00Z", [session("d")])]))
    assert rows(wh, "SELECT session_id FROM polled_sessions") == [("a",), ("d",), ("c",), ("b",)]


def test_audit_log_lines_and_their_dedupe_by_id(tmp_path: Path) -> None:
    login = entry("g1", "2026-11-02T07:41:11Z")
    refused = entry("g2", "2026-11-02T07:50:00Z", "LoginFailed", Details="MaximumLicenseCountExceeded")
    old_name = audit_line("2026-11-02T10:00:00Z", [entry("g3", "2026-11-02T09:00:00Z", user=None, User="ivo")],
                          entity_set="Systems_Core_AuditLogEntries")
    path = write_lines(tmp_path / "a.jsonl", [
        audit_line("2026-11-02T08:00:00Z", [login, refused]),
        audit_line("2026-11-02T09:00:00Z", [refused]),  # only an entry already read: a duplicate line
        old_name,
        json.dumps({"instance": INSTANCE, "entity_set": "Systems_Monitoring_AuditLogEntries",
                    "polled_at": "2026-11-02T11:00:00Z", "error": "timeout"}),
    ])
    wh, result = run(tmp_path, path)
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (4, 3, 1, 0)
    assert rows(wh, "SELECT id, event_time, event_type, details, \"user\" FROM audit_log ORDER BY id") == [
        ("g1", utc("2026-11-02T07:41:11Z"), "Login", None, "mia"),
        ("g2", utc("2026-11-02T07:50:00Z"), "LoginFailed", "MaximumLicenseCountExceeded", "mia"),
        ("g3", utc("2026-11-02T09:00:00Z"), "Login", None, "ivo")]
    assert rows(wh, "SELECT count(*) FROM polls") == [(0,)]  # audit-log reads are not polls of the sessions view
    _, again = run(tmp_path, write_lines(tmp_path / "b.jsonl", [audit_line("2026-11-02T12:00:00Z", [login])]))
    assert (again.accepted, again.duplicates) == (0, 1)
    assert rows(wh, "SELECT count(*) FROM audit_log") == [(3,)]


def test_the_pending_audit_spans_every_instant_the_new_lines_speak_of(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [
        poll("2026-11-02T08:05:00Z", [session(start="2026-11-01T22:00:00Z"), session("s2")]),
        poll("2026-11-02T08:10:00Z", error="HTTP 503"),
        audit_line("2026-11-02T09:00:00Z", [entry("g1", "2026-11-01T21:59:00Z")]),
        poll("2026-11-02T09:30:00Z", [session(start="2026-11-01T20:00:00Z")], instance="beta.my.erp.net"),
    ])
    wh, result = run(tmp_path, path)
    pending = wh.state().pending_audit
    assert (pending[INSTANCE].first, pending[INSTANCE].last) == (utc("2026-11-01T21:59:00Z"), utc("2026-11-02T09:00:00Z"))
    assert (pending["beta.my.erp.net"].first, pending["beta.my.erp.net"].last) == (
        utc("2026-11-01T20:00:00Z"), utc("2026-11-02T09:30:00Z"))
    assert result.new_spans[INSTANCE] == (utc("2026-11-01T21:59:00Z"), utc("2026-11-02T09:00:00Z"))


def test_only_new_lines_widen_the_pending_audit(tmp_path: Path) -> None:
    wh, _ = run(tmp_path, write_lines(tmp_path / "a.jsonl", [poll("2026-11-02T08:05:00Z", [session()])]))
    with wh.transaction() as tx:  # as the audit does once it has judged them
        tx.state.pending_audit.clear()
    run(tmp_path, write_lines(tmp_path / "b.jsonl", [poll("2026-11-02T08:05:00Z", [session(start="2026-10-01T00:00:00Z")]),
                                                     poll("2026-11-02T08:20:00Z", [])]))
    span = wh.state().pending_audit[INSTANCE]
    assert (span.first, span.last) == (utc("2026-11-02T08:20:00Z"), utc("2026-11-02T08:20:00Z"))


def test_reingesting_the_same_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [poll("2026-11-02T08:05:00Z", [session()]), "oops"])
    wh, first = run(tmp_path, path)
    _, second = run(tmp_path, path)
    assert (second.read, second.accepted, second.duplicates, second.rejected) == (2, 0, 1, 1)
    assert rows(wh, "SELECT count(*) FROM polled_sessions") == [(1,)]
    from auditor.ingest import ingest

    skipped = ingest(wh, [path], skip_known_files=True)
    assert [f.skipped_known for f in skipped.files] == [True]
    assert first.files[0].sha256 == second.files[0].sha256
    assert rows(wh, "SELECT count(*) FROM polls") == [(1,)]


def test_read_is_accepted_plus_duplicates_plus_rejected(tmp_path: Path) -> None:
    lines = [poll("2026-11-02T08:05:00Z", [session()]), "", poll("2026-11-02T08:05:00Z", []), "{", "[]",
             poll("2026-11-02T08:10:00Z", [{"StartTime": None}]), poll("2026-11-02T08:15:00Z", error="x")]
    write_lines(tmp_path / "in" / "a.jsonl", lines)
    write_events(tmp_path / "in" / "log.csv", [event(), event(), event(ts="nope")])
    wh, result = run(tmp_path, tmp_path / "in")
    for f in result.files:
        assert f.read == f.accepted + f.duplicates + f.rejected
    snap = next(f for f in result.files if f.format == "snapshots")
    assert (snap.read, snap.accepted, snap.duplicates, snap.rejected) == (6, 2, 1, 3)
    assert rows(wh, "SELECT sum(read), sum(accepted) + sum(duplicates) + sum(rejected) FROM ingest_log") == [(9, 9)]


def test_cli_ingest_of_a_directory_with_a_snapshot_file_and_a_log(tmp_path: Path, invoke) -> None:
    write_lines(tmp_path / "in" / "acme" / "2026-11-02.jsonl.zst",
                [poll("2026-11-02T08:05:00Z", [session()]), poll("2026-11-02T08:10:00Z", error="HTTP 503"), "bad"], "zst")
    write_events(tmp_path / "in" / "beta.csv", [event(instance="beta.my.erp.net", event="login")])
    result = invoke("ingest", "-w", str(tmp_path / "wh"), str(tmp_path / "in"))
    assert result.exit_code == 0, result.output
    assert "2026-11-02.jsonl.zst" in result.stderr and "total" in result.stderr
    assert "1 new event(s), 2 new snapshot line(s)" in result.stderr
    assert "1 rejected line(s)" in result.stderr
    assert result.stdout == ""
    wh_rows = rows(tmp_path / "wh", "SELECT file, format, read, accepted, duplicates, rejected FROM ingest_log ORDER BY format")
    assert [(Path(f).name, *rest) for f, *rest in wh_rows] == [
        ("beta.csv", "csv", 1, 1, 0, 0), ("2026-11-02.jsonl.zst", "snapshots", 3, 2, 0, 1)]
    again = invoke("ingest", "-w", str(tmp_path / "wh"), str(tmp_path / "in"))
    assert "nothing new" not in again.stderr  # the bad line is rejected again
    assert "0 new event(s), 0 new snapshot line(s)" in again.stderr


def test_a_snapshot_line_that_is_rejected_is_named_with_file_and_line(tmp_path: Path) -> None:
    wh, _ = run(tmp_path, write_lines(tmp_path / "a.jsonl", [poll("2026-11-02T08:05:00Z", []), "", "{oops"]))
    assert rejects(wh) == [("a.jsonl", 3, "malformed JSON", "{oops")]


def test_nightly_reads_snapshot_files_among_the_logs_and_counts_their_lines(tmp_path: Path) -> None:
    from nightly_fixtures import write_day, write_entitlements

    from auditor.nightly import run_nightly
    from auditor.warehouse import Warehouse

    logs = tmp_path / "logs"
    write_day(logs, 1)
    write_lines(logs / "acme" / "2026-11-02.jsonl", [poll("2026-11-02T08:05:00Z", [session()]), "{"])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = run_nightly(wh, logs, entitlements=write_entitlements(tmp_path / "ent"))
    record = result.record
    assert record.status == "ok", record.error
    assert record.files_ingested == 2
    assert rows(wh, "SELECT sum(read), sum(rejected) FROM ingest_log") == [(record.events_read, record.events_rejected)]
    assert rows(wh, "SELECT count(*) FROM polled_sessions") == [(1,)]
    assert record.events_rejected == 1
    # the next night: nothing new, the snapshot file is known by its content
    again = run_nightly(wh, logs).record
    assert (again.status, again.files_ingested, again.files_skipped) == ("ok", 0, 2)


def test_a_first_line_longer_than_the_head_is_judged_by_its_start(tmp_path: Path) -> None:
    from auditor.ingest.sources import HEAD_BYTES, is_snapshot_file

    many = [session(f"s{i}", Device="D" * 200) for i in range(HEAD_BYTES // 300)]
    big = write_lines(tmp_path / "big.jsonl", [poll("2026-11-02T08:05:00Z", many)])
    assert big.stat().st_size > HEAD_BYTES
    assert is_snapshot_file(big, None)
    log = write_lines(tmp_path / "log.jsonl", [json.dumps(event(user="u" * HEAD_BYTES))])
    assert not is_snapshot_file(log, None)
    # a snapshot file of one line without its line break
    (tmp_path / "one.jsonl").write_text(poll("2026-11-02T08:05:00Z", []))
    assert is_snapshot_file(tmp_path / "one.jsonl", None)


@st.composite
def polls_with_repeats(draw: st.DrawFn) -> tuple[list[str], list[str], list[str]]:
    """Distinct polls; the same with some given again (anywhere); and the ones ingested in an earlier run."""
    lines = []
    for i in range(draw(st.integers(1, 12))):
        sessions = [session(f"s{j}", f"u{draw(st.integers(0, 3))}", f"2026-11-02T07:{draw(st.integers(0, 59)):02d}:00Z")
                    for j in range(draw(st.integers(0, 3)))]
        lines.append(poll(f"2026-11-0{draw(st.integers(2, 3))}T09:{i:02d}:00Z", sessions,
                          error="HTTP 503" if not sessions and draw(st.booleans()) else None))
    repeated = list(lines)
    for again in draw(st.lists(st.sampled_from(lines), min_size=1, max_size=4)):
        repeated.insert(draw(st.integers(0, len(repeated))), again)
    earlier = draw(st.lists(st.sampled_from(lines), max_size=3))
    return lines, repeated, earlier


@settings(max_examples=examples(6))
@given(case=polls_with_repeats())
def test_polls_given_again_store_the_same_rows_as_polls_given_once(
        tmp_path_factory: pytest.TempPathFactory, case: tuple[list[str], list[str], list[str]]) -> None:
    """Polls all new take the staged sessions whole (queries/ingest/snapshot_all_sessions.sql); a poll given
    twice, in the run or in the warehouse, makes ingest join them with the new polls: the same rows either way."""
    lines, repeated, earlier = case
    tmp = tmp_path_factory.mktemp("repeats")
    wh_once, once = run(tmp, write_lines(tmp / "in-once" / "a.jsonl", lines), name="once")
    wh_again = Warehouse.open(tmp / "again", create=True)
    if earlier:
        ingest(wh_again, [write_lines(tmp / "in-earlier" / "a.jsonl", earlier)])
    again = ingest(wh_again, [write_lines(tmp / "in-repeated" / "a.jsonl", repeated)])
    assert once.duplicates == 0 and once.accepted == len(lines)
    assert again.duplicates == len(repeated) - len(set(lines) - set(earlier))
    for name, order in (("polls", "polled_at"), ("polled_sessions", "polled_at, session_id")):
        assert table(wh_again, name, order) == table(wh_once, name, order)
