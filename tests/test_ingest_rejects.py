"""Every reject reason, with file, line number and raw text; read = accepted + duplicates + rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from tests.ingest_support import rows, write_lines

GOOD = '{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s1"}'

JSONL_CASES = [
    ('{"ts":"2026-10-01T08:00:00Z","instance":', "malformed JSON"),
    ('{"ts":"2026-10-01T08:00:00Z"}{"ts":"2026-10-01T09:00:00Z"}', "malformed JSON"),
    ("[1, 2, 3]", "not a JSON object"),
    ('"just a string"', "not a JSON object"),
    ("42", "not a JSON object"),
    ('{"instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "missing ts"),
    ('{"ts":null,"instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "missing ts"),
    ('{"ts":"yesterday","instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "unparseable timestamp"),
    ('{"ts":"2026-10-01","instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "unparseable timestamp"),
    ('{"ts":"2026-02-30T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "unparseable timestamp"),
    ('{"ts":"infinity","instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "unparseable timestamp"),
    ('{"ts":1790000000,"instance":"acme.my.erp.net","event":"login","session_id":"s1"}', "unparseable timestamp"),
    ('{"ts":"2026-10-01T08:00:00Z","event":"login","session_id":"s1"}', "missing instance"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"   ","event":"login","session_id":"s1"}', "missing instance"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","session_id":"s1"}', "missing event"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"logon","session_id":"s1"}', "unknown event"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login"}', "missing session_id"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"request","session_id":""}', "missing session_id"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"logout","session_id":null}', "missing session_id"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":0}', "bad seats"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":-2}', "bad seats"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":1.5}', "bad seats"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":"two"}', "bad seats"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":99999999999}', "bad seats"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":2147483647}', "seats above 1000"),
    ('{"ts":"2026-10-01T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s","seats":"1001"}', "seats above 1000"),
    # the calendar's far ends: every one of these crashed ingest or cost later audits a row per day in between
    ('{"ts":"9999-12-31T23:59:59.999999Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp in the future"),
    ('{"ts":"9999-12-31T23:59:59-12:00","instance":"acme.my.erp.net","event":"restart"}', "timestamp in the future"),
    ('{"ts":"2099-06-01T00:00:00Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp in the future"),
    ('{"ts":"0000-01-01T00:00:00Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp too old"),
    ('{"ts":"-001-01-01T00:00:00Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp too old"),
    ('{"ts":"0001-01-01T00:00:00+14:00","instance":"acme.my.erp.net","event":"restart"}', "timestamp too old"),
    ('{"ts":"0001-01-01T00:00:00Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp too old"),
    ('{"ts":"1969-12-31T23:59:59Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp too old"),
    ('{"ts":"1999-12-31T23:59:59.999999Z","instance":"acme.my.erp.net","event":"restart"}', "timestamp too old"),
]


def _ingest(tmp_path: Path, path: Path):
    wh = Warehouse.open(tmp_path / "wh", create=True)
    return wh, ingest(wh, [path])


@pytest.mark.parametrize(("line", "reason"), JSONL_CASES)
def test_each_jsonl_reject_reason(tmp_path: Path, line: str, reason: str) -> None:
    path = write_lines(tmp_path / "log.jsonl", [GOOD, line])
    wh, result = _ingest(tmp_path, path)
    assert rows(wh, "SELECT file, line, reason, raw, run_id FROM rejects") == [
        (str(path.absolute()), 2, reason, line, result.run_id)
    ]
    f = result.files[0]
    assert (f.read, f.accepted, f.duplicates, f.rejected) == (2, 1, 0, 1)


CSV_HEADER = "ts,instance,event,session_id,seats"
CSV_CASES = [
    ("2026-10-01T08:00:00Z,acme,login", "malformed CSV row: wrong number of fields"),
    ("2026-10-01T08:00:00Z,acme,login,s1,1,extra", "malformed CSV row: wrong number of fields"),
    ('2026-10-01T08:00:00Z,ac"me,login,s1,1', "malformed CSV row: bad quoting"),
    ('2026-10-01T08:00:00Z,"acme,login,s1,1', "malformed CSV row: bad quoting"),
    ('2026-10-01T08:00:00Z,"acme"x,login,s1,1', "malformed CSV row: bad quoting"),
    (",acme,login,s1,1", "missing ts"),
    ("08:00 1.10.2026,acme,login,s1,1", "unparseable timestamp"),
    ("2026-10-01T08:00:00Z,,login,s1,1", "missing instance"),
    ("2026-10-01T08:00:00Z,acme,,s1,1", "missing event"),
    ("2026-10-01T08:00:00Z,acme,crash,s1,1", "unknown event"),
    ("2026-10-01T08:00:00Z,acme,login,,1", "missing session_id"),
    ("2026-10-01T08:00:00Z,acme,login,s1,0", "bad seats"),
    ("2026-10-01T08:00:00Z,acme,login,s1,3.0", "bad seats"),
    ("2026-10-01T08:00:00Z,acme,login,s1,+3", "bad seats"),
]


@pytest.mark.parametrize(("line", "reason"), CSV_CASES)
def test_each_csv_reject_reason(tmp_path: Path, line: str, reason: str) -> None:
    path = write_lines(tmp_path / "log.csv", [CSV_HEADER, "2026-10-01T08:00:00Z,acme,login,s1,1", line])
    wh, result = _ingest(tmp_path, path)
    assert rows(wh, "SELECT line, reason, raw FROM rejects") == [(3, reason, line)]
    f = result.files[0]
    assert (f.read, f.accepted, f.duplicates, f.rejected) == (2, 1, 0, 1)


def test_invalid_utf8_is_rejected_with_its_bytes_shown(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(GOOD.encode() + b'\n{"ts":"2026-10-01T08:00:00Z","instance":"caf\xe9"}\n' + GOOD.replace("s1", "s2").encode() + b"\n")
    wh, result = _ingest(tmp_path, path)
    assert rows(wh, "SELECT line, reason, raw FROM rejects") == [
        (2, "not valid UTF-8", '{"ts":"2026-10-01T08:00:00Z","instance":"caf\\xe9"}')
    ]
    assert (result.files[0].read, result.files[0].accepted) == (3, 2)


def test_reconciliation_holds_per_file_and_in_ingest_log(tmp_path: Path) -> None:
    good = [GOOD.replace("s1", f"s{i}") for i in range(5)]
    a = write_lines(tmp_path / "a.jsonl", good + [good[0], "{oops", "", "   ", good[1]])
    b = write_lines(tmp_path / "b.csv", [CSV_HEADER, "2026-10-01T08:00:00Z,acme.my.erp.net,login,s1,", "x,y", "2026-10-01T09:00:00Z,acme,login,s9,1"])
    wh, result = _ingest(tmp_path, tmp_path)
    by_name = {f.path.name: f for f in result.files}
    # a: 5 new, 2 repeats, 1 malformed; blank lines are not events
    assert (by_name["a.jsonl"].read, by_name["a.jsonl"].accepted, by_name["a.jsonl"].duplicates, by_name["a.jsonl"].rejected) == (8, 5, 2, 1)
    # b: its first row equals a.jsonl's s1 login (same normalised event)
    assert (by_name["b.csv"].read, by_name["b.csv"].accepted, by_name["b.csv"].duplicates, by_name["b.csv"].rejected) == (3, 1, 1, 1)
    logged = rows(wh, "SELECT file, \"read\", accepted, duplicates, rejected, run_id FROM ingest_log ORDER BY file")
    assert logged == [
        (str(a.absolute()), 8, 5, 2, 1, result.run_id),
        (str(b.absolute()), 3, 1, 1, 1, result.run_id),
    ]
    for _, read, accepted, duplicates, rejected, _ in logged:
        assert read == accepted + duplicates + rejected
    assert rows(wh, "SELECT count(*) FROM events") == [(6,)]
    assert rows(wh, "SELECT count(*) FROM rejects") == [(2,)]
