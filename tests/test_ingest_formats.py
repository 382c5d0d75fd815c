"""Each format x compression, directories, line endings, timestamps and normalisation."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest
import zstandard

from auditor.errors import InputFileError
from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from tests.ingest_support import event, rows, write_events, write_lines

EVENTS = [
    event(ts="2026-10-01T08:00:00Z", event="login", session_id="s1", user="ann", user_type="int", device="pc-1", app="web"),
    event(ts="2026-10-01T08:05:00.250Z", session_id="s1", user="ann"),
    event(ts="2026-10-02T09:00:00Z", event="login", session_id="svc", auth_flow="Client_Credentials", seats=3, app="sync, nightly"),
    event(ts="2026-10-02T10:00:00Z", event="login_failed", session_id=None, reason="MaximumLicenseCountExceeded"),
    event(ts="2026-10-03T00:00:00Z", event="restart", session_id=None),
]
EXPECTED = [
    (datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc), "acme.my.erp.net", "login", "s1", 1, "ann", "INT", "pc-1", "web", None, None),
    (datetime(2026, 10, 1, 8, 5, 0, 250000, tzinfo=timezone.utc), "acme.my.erp.net", "request", "s1", 1, "ann", None, None, None, None, None),
    (datetime(2026, 10, 2, 9, 0, tzinfo=timezone.utc), "acme.my.erp.net", "login", "svc", 3, None, None, None, "sync, nightly", "client_credentials", None),
    (datetime(2026, 10, 2, 10, 0, tzinfo=timezone.utc), "acme.my.erp.net", "login_failed", None, 1, None, None, None, None, None, "MaximumLicenseCountExceeded"),
    (datetime(2026, 10, 3, 0, 0, tzinfo=timezone.utc), "acme.my.erp.net", "restart", None, 1, None, None, None, None, None, None),
]
ALL = 'SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason FROM events ORDER BY ts'


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("compression", [None, "gz", "zst"])
def test_each_format_and_compression(tmp_path: Path, fmt: str, compression: str | None) -> None:
    name = f"log.{fmt}" + (f".{compression}" if compression else "")
    path = write_events(tmp_path / name, EVENTS, compression)
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [path])
    assert rows(wh, ALL) == EXPECTED
    f = result.files[0]
    assert (f.format, f.compression, f.read, f.accepted) == (fmt, {None: None, "gz": "gzip", "zst": "zstd"}[compression], 5, 5)
    assert rows(wh, "SELECT format, compression FROM ingest_log") == [(f.format, f.compression)]
    # one file per UTC date, each sorted by (instance, ts, session_id)
    assert sorted(wh.partitions("events")) == ["date=2026-10-01", "date=2026-10-02", "date=2026-10-03"]


def test_compression_is_recognised_by_content_and_multi_member_streams_are_read(tmp_path: Path) -> None:
    lines = [f'{{"ts":"2026-10-01T08:0{i}:00Z","instance":"a","event":"request","session_id":"s"}}\n' for i in range(4)]
    gz = tmp_path / "two-members.jsonl.gz"
    gz.write_bytes(gzip.compress("".join(lines[:2]).encode()) + gzip.compress("".join(lines[2:]).encode()))
    zst = tmp_path / "two-frames.jsonl.zst"
    c = zstandard.ZstdCompressor()
    zst.write_bytes(c.compress("".join(lines[:2]).encode()) + c.compress("".join(lines[2:]).encode()))
    misnamed = tmp_path / "really-gzip.jsonl"
    misnamed.write_bytes(gzip.compress(lines[0].encode()))
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [gz, zst, misnamed])
    assert [(f.read, f.compression) for f in result.files] == [(4, "gzip"), (4, "zstd"), (1, "gzip")]
    assert result.accepted == 4 and result.duplicates == 5


def test_directories_are_read_recursively_and_other_files_listed(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_events(logs / "2026-10-01.jsonl", EVENTS[:2])
    write_events(logs / "deeper" / "2026-10-02.csv.gz", EVENTS[2:4], "gz")
    write_events(logs / "deeper" / "more" / "x.ndjson.zst", EVENTS[4:], "zst")
    (logs / "notes.txt").write_text("not a log")
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [logs, logs / "2026-10-01.jsonl"])  # named twice: read once
    assert sorted(f.path.name for f in result.files) == ["2026-10-01.jsonl", "2026-10-02.csv.gz", "x.ndjson.zst"]
    assert result.ignored == [logs / "notes.txt"]
    assert rows(wh, ALL) == EXPECTED


def test_crlf_bom_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes(
        b"\xef\xbb\xbfts,instance,event,session_id\r\n2026-10-01T08:00:00Z,acme,login,s1\r\n\r\n2026-10-01T08:01:00Z,acme,logout,s1"
    )
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [path])
    assert (result.files[0].read, result.files[0].accepted, result.files[0].rejected) == (2, 2, 0)
    assert rows(wh, "SELECT event, session_id FROM events ORDER BY ts") == [("login", "s1"), ("logout", "s1")]


def test_a_bad_line_in_crlf_jsonl_keeps_its_number_and_text(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "win.jsonl", ['{"ts":"2026-10-01T08:00:00Z","instance":"a","event":"restart"}', "", "{broken"], newline="\r\n")
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [path])
    assert rows(wh, "SELECT line, raw FROM rejects") == [(3, "{broken")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-01T08:00:00Z", datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)),
        ("2026-10-01T08:00:00+02:00", datetime(2026, 10, 1, 6, 0, tzinfo=timezone.utc)),
        ("2026-10-01T08:00:00-05:30", datetime(2026, 10, 1, 13, 30, tzinfo=timezone.utc)),
        ("2026-10-01T08:00:00+0200", datetime(2026, 10, 1, 6, 0, tzinfo=timezone.utc)),
        ("2026-10-01T08:00:00", datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)),
        ("2026-10-01 08:00:00", datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)),
        ("2026-10-01 08:00:00+02:00", datetime(2026, 10, 1, 6, 0, tzinfo=timezone.utc)),
        ("2026-10-01T08:00:00.5Z", datetime(2026, 10, 1, 8, 0, 0, 500000, tzinfo=timezone.utc)),
        ("2026-10-01T08:00:00.123456Z", datetime(2026, 10, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2026-10-01 08:00:00.123456+01:00", datetime(2026, 10, 1, 7, 0, 0, 123456, tzinfo=timezone.utc)),
        # .NET writes seven digits: cut to the microsecond, never rounded into the next one
        ("2026-10-01T08:00:00.9999999Z", datetime(2026, 10, 1, 8, 0, 0, 999999, tzinfo=timezone.utc)),
        # an offset can move the event to another UTC date
        ("2026-10-02T01:00:00+03:00", datetime(2026, 10, 1, 22, 0, tzinfo=timezone.utc)),
    ],
)
def test_timestamps(tmp_path: Path, text: str, expected: datetime) -> None:
    path = write_events(tmp_path / "t.jsonl", [event(ts=text)])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [path])
    assert rows(wh, "SELECT ts FROM events") == [(expected,)]
    assert list(wh.partitions("events")) == [f"date={expected.date().isoformat()}"]


def test_instance_names_in_other_cases_and_whitespace_are_one_instance(tmp_path: Path) -> None:
    path = write_events(
        tmp_path / "i.jsonl",
        [event(instance="ACME.my.erp.net"), event(instance="  acme.MY.erp.net "), event(instance="acme.my.erp.net")],
    )
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [path])
    assert rows(wh, "SELECT instance FROM events") == [("acme.my.erp.net",)]
    assert (result.accepted, result.duplicates) == (1, 2)


def test_text_fields_trimmed_empty_means_absent_and_seats_default(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "n.jsonl",
        [
            '{"ts":"2026-10-01T08:00:00Z","instance":"a","event":" LOGIN ","session_id":" s1 ","user":"","device":null,'
            '"user_type":" app ","auth_flow":" Client_Credentials ","seats":"2","app":" x "}',
        ],
    )
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [path])
    assert rows(wh, 'SELECT event, session_id, "user", device, user_type, auth_flow, seats, app FROM events') == [
        ("login", "s1", None, None, "APP", "client_credentials", 2, "x")
    ]


def test_unknown_fields_are_named_once(tmp_path: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", [
        '{"ts":"2026-10-01T08:00:00Z","instance":"a","event":"restart","host":"h","pid":1}',
        '{"ts":"2026-10-01T09:00:00Z","instance":"a","event":"restart","host":"h"}',
    ])
    b = write_lines(tmp_path / "b.csv", ["ts,instance,event,host,colour", "2026-10-01T10:00:00Z,a,restart,h,red"])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [a, b])
    assert result.unknown_fields == ["colour", "host", "pid"]
    assert [f.unknown_fields for f in result.files] == [["host", "pid"], ["colour", "host"]]
    assert rows(wh, "SELECT unknown_fields FROM ingest_log ORDER BY file") == [(["host", "pid"],), (["colour", "host"],)]


def test_a_csv_file_that_is_not_a_log_is_a_usage_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "entitlements.csv", ["instance,plan", "a,basic"])
    with pytest.raises(InputFileError, match="not a connection log"):
        ingest(Warehouse.open(tmp_path / "wh", create=True), [path])


def test_a_file_named_unlike_a_log_is_a_usage_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "log.txt", ["x"])
    with pytest.raises(InputFileError, match="cannot tell its format"):
        ingest(Warehouse.open(tmp_path / "wh", create=True), [path])


def test_empty_files(tmp_path: Path) -> None:
    a = tmp_path / "empty.jsonl"
    a.write_bytes(b"")
    b = tmp_path / "header-only.csv"
    b.write_text("ts,instance,event\n")
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [a, b])
    assert [(f.read, f.accepted) for f in result.files] == [(0, 0), (0, 0)]
    assert rows(wh, 'SELECT "read" FROM ingest_log') == [(0,), (0,)]


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_compressed_data_cut_short_keeps_the_lines_before_and_rejects_the_rest(tmp_path: Path, compression: str) -> None:
    # random user names: data that does not compress away, so the cut lands mid-stream
    import secrets

    n = 6000
    full = write_events(tmp_path / f"full.jsonl.{compression}", [event(ts=f"2026-10-01T{m // 3600:02d}:{m // 60 % 60:02d}:{m % 60:02d}Z", session_id=f"s{m}", user=secrets.token_hex(40)) for m in range(n)], compression)
    data = full.read_bytes()
    cut = tmp_path / f"cut.jsonl.{compression}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    f = ingest(wh, [cut]).files[0]
    assert f.rejected == 1 and f.read == f.accepted + 1 and n // 3 < f.accepted < n
    (line, reason), = rows(wh, "SELECT line, reason FROM rejects")
    assert line == f.accepted + 1 and reason.startswith("unreadable: ")


def test_each_partition_file_is_sorted_by_instance_ts_session(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    instances = ["b.my.erp.net", "A.my.erp.net", "a.my.erp.net-2", "zz.my.erp.net", "a.my.erp.net"]
    events = []
    for i in range(400):
        day = 1 + i % 3
        events.append(event(
            ts=f"2026-10-0{day}T{(i * 7) % 24:02d}:{(i * 13) % 60:02d}:00Z",
            instance=instances[(i * 3) % len(instances)],
            event="restart" if i % 11 == 0 else "request",
            session_id=None if i % 11 == 0 else f"s{(i * 5) % 9}",
        ))
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [write_events(tmp_path / "late.jsonl", events[200:]), write_events(tmp_path / "early.csv", events[:200])])
    parts = wh.partitions("events")
    assert sorted(parts) == ["date=2026-10-01", "date=2026-10-02", "date=2026-10-03"]
    total = 0
    for path in parts.values():
        stored = pq.read_table(path).select(["instance", "ts", "session_id"]).to_pylist()
        keys = [(r["instance"], r["ts"], r["session_id"] is None, r["session_id"] or "") for r in stored]
        assert keys == sorted(keys)  # a session_id of NULL sorts after every other at the same instance and ts
        total += len(stored)
    assert total == rows(wh, "SELECT count(*) FROM events")[0][0] == len({repr(sorted(dict(e, instance=e["instance"].lower()).items())) for e in events})
