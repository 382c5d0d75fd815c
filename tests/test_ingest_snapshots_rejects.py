"""Every reject reason of a snapshot line, with file, line and raw text; a bad line never changes its neighbours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.limits import InputBounds
from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from tests.budget import examples
from tests.ingest_support import write_lines
from tests.snapshot_support import INSTANCE, audit_line, entry, poll, rejects, run, session, table

AT = "2026-11-02T08:05:00Z"


def line(**fields: Any) -> str:
    base: dict[str, Any] = {"instance": INSTANCE, "entity_set": "Systems_Monitoring_CurrentSessions", "polled_at": AT, "rows": []}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def with_row(**fields: Any) -> str:
    return line(rows=[session("s0"), session(**fields)])


CASES = [
    ("{oops", "malformed JSON"),
    (line() + " " + line(), "malformed JSON"),  # two objects on one line
    ('{"instance": "a", "instance": "b", "entity_set": "Systems_Monitoring_CurrentSessions", "rows": []}', "malformed JSON"),
    (line(rows=[{"StartTime": AT, "DownloadMB": 7}]).replace("7", "NaN"), "bad row 1: DownloadMB out of range"),
    (line(rows=[{"StartTime": AT, "UploadMB": 7}]).replace("7", "-Infinity"), "bad row 1: UploadMB out of range"),
    ("[1, 2]", "not a JSON object"),
    ("42", "not a JSON object"),
    (line(instance=5), "instance is not a string"),
    (line(polled_at=1790000000), "polled_at is not a string"),
    (line(error={"code": 500}, rows=...), "error is not a string"),
    (line(collector="me"), "collector is not an object"),
    (line(collector={"user": 7}), "collector.user is not a string"),
    (line(rows={"SessionId": "s1"}), "rows is not a list"),
    (line(rows=[session(), 5]), "bad row 2: not an object"),
    (line(rows=[None]), "bad row 1: not an object"),
    (with_row(Device=["a"]), "bad row 2: Device is not a string"),
    (with_row(CurrentRequestsCount="3"), "bad row 2: CurrentRequestsCount is not a number"),
    (with_row(TotalRequestsCount=3.5), "bad row 2: TotalRequestsCount is not a whole number"),
    (with_row(TotalRequestsCount=1 << 64), "bad row 2: TotalRequestsCount is not a whole number"),
    (with_row(UploadMB=True), "bad row 2: UploadMB is not a number"),
    (line(instance=...), "missing instance"),
    (line(instance="  "), "missing instance"),
    (line(entity_set=...), "missing entity_set"),
    (line(entity_set="Systems_Monitoring_Licenses"), "unknown entity_set"),
    (line(polled_at=...), "missing polled_at"),
    (line(polled_at="yesterday"), "polled_at is not a timestamp"),
    (line(polled_at="2026-11-02"), "polled_at is not a timestamp"),
    (line(polled_at="1999-12-31T23:59:59Z"), "polled_at too old"),
    (line(polled_at="2099-01-01T00:00:00Z"), "polled_at in the future"),
    (line(error="HTTP 503"), "both rows and error"),
    (line(rows=...), "neither rows nor error"),
    (line(rows=None, error=""), "neither rows nor error"),
    (with_row(StartTime=None), "bad row 2: no StartTime"),
    (with_row(StartTime="soon"), "bad row 2: StartTime is not a timestamp"),
    (with_row(StartTime="0001-01-01T00:00:00Z"), "bad row 2: StartTime too old"),
    (with_row(StartTime="2099-01-01T00:00:00Z"), "bad row 2: StartTime in the future"),
    (with_row(LastRequestTime="2026-11-02T25:00:00Z"), "bad row 2: LastRequestTime is not a timestamp"),
    (with_row(AbsoluteExpirationTime="9999-12-31T23:59:59Z"), "bad row 2: AbsoluteExpirationTime in the future"),
    (with_row(CurrentRequestsCount=1 << 31), "bad row 2: CurrentRequestsCount out of range"),
    (with_row(CurrentRequestsCount=-1), "bad row 2: CurrentRequestsCount out of range"),
    (with_row(TotalRequestsCount=-1), "bad row 2: TotalRequestsCount out of range"),
    (with_row(DownloadMB=-0.5), "bad row 2: DownloadMB out of range"),
    (with_row(UploadMB=-1), "bad row 2: UploadMB out of range"),
    (audit_line(AT, [entry("g1", AT), entry(" ", AT)]), "bad row 2: no Id"),
    (audit_line(AT, [entry("g1", None)]), "bad row 1: no EventTimeUtc"),
    (audit_line(AT, [entry("g1", "then")]), "bad row 1: EventTimeUtc is not a timestamp"),
    (audit_line(AT, [entry("g1", "2099-01-01T00:00:00Z")]), "bad row 1: EventTimeUtc in the future"),
]


@pytest.mark.parametrize(("bad", "reason"), CASES)
def test_each_reject_reason_with_its_line_and_raw_text(tmp_path: Path, bad: str, reason: str) -> None:
    good = poll("2026-11-02T08:00:00Z", [session()])
    wh, result = run(tmp_path, write_lines(tmp_path / "a.jsonl", [good, "", bad, good.replace("08:00", "08:10")]))
    assert rejects(wh) == [("a.jsonl", 3, reason, bad)]
    assert (result.read, result.accepted, result.rejected) == (3, 2, 1)
    assert table(wh, "polls", "polled_at")[0]["listed"] == 1


def test_lines_the_reader_cannot_read_are_rejected(tmp_path: Path) -> None:
    good = poll(AT, [session()])
    long = poll("2026-11-02T08:10:00Z", [session(Device="x" * 2000)])
    path = tmp_path / "a.jsonl"
    path.write_bytes((good + "\n").encode() + b'{"instance": "\xff"}\n' + (long + "\n").encode())
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [path], bounds=InputBounds(max_line_bytes=1024))
    assert [(line, reason) for _, line, reason, _ in rejects(wh)] == [
        (2, "not valid UTF-8"), (3, f"line too long: {len(long) + 1} bytes")]
    assert (result.read, result.accepted, result.rejected) == (3, 1, 2)


def test_a_rejected_poll_stores_nothing_of_its_rows(tmp_path: Path) -> None:
    wh, _ = run(tmp_path, write_lines(tmp_path / "a.jsonl", [with_row(StartTime="soon")]))
    assert table(wh, "polls", "polled_at") == [] and table(wh, "polled_sessions", "start_time") == []


_BAD = [bad for bad, _ in CASES]


@st.composite
def snapshot_files(draw: st.DrawFn) -> list[str]:
    lines = []
    for i in range(draw(st.integers(1, 40))):
        if i and draw(st.booleans()) and draw(st.booleans()):  # the first line makes it a snapshot file
            lines.append(draw(st.sampled_from(_BAD)))
            continue
        minute = draw(st.integers(0, 59))
        sessions = [session(f"s{j}", f"u{draw(st.integers(0, 3))}", f"2026-11-02T07:{draw(st.integers(0, 59)):02d}:00Z")
                    for j in range(draw(st.integers(0, 4)))]
        lines.append(poll(f"2026-11-02T09:{minute:02d}:{i % 60:02d}Z", sessions))
    return lines


@settings(max_examples=examples(8))
@given(lines=snapshot_files())
def test_a_bad_line_changes_nothing_of_the_good_lines(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    """A batch with bad lines takes the cutting path; its good lines give exactly the rows they give alone."""
    tmp = tmp_path_factory.mktemp("cut")
    bad_at = {i + 1 for i, text in enumerate(lines) if text in _BAD}
    wh_mixed, mixed = run(tmp, write_lines(tmp / "mixed.jsonl", lines), name="mixed")
    wh_good, good = run(tmp, write_lines(tmp / "good.jsonl", [t for t in lines if t not in _BAD]), name="good")
    assert {line for _, line, _, _ in rejects(wh_mixed)} == bad_at
    assert good.rejected == 0 and mixed.accepted == good.accepted
    for name, order in (("polls", "polled_at"), ("polled_sessions", "polled_at, session_id")):
        assert table(wh_mixed, name, order) == table(wh_good, name, order)
