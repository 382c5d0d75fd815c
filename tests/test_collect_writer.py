"""Snapshot files: one line per poll in the UTC day's file, and torn last lines repaired or cut."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from budget import examples
from hypothesis import given, settings, strategies as st

from auditor.collect.scheduler import next_boundary
from auditor.collect.writer import SnapshotWriter, format_ts, repair_torn_line

AT = datetime(2026, 11, 2, 23, 59, 59, 999_900, tzinfo=timezone.utc)


def line(at: datetime, n: int = 0) -> dict:
    return {"instance": "acme", "entity_set": "Systems_Monitoring_CurrentSessions", "polled_at": format_ts(at),
            "collector": {"user": "c", "application": "a"}, "rows": [{"SessionId": str(i)} for i in range(n)]}


def test_lines_go_to_the_utc_day_of_polled_at(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path)
    local = AT.astimezone(timezone(timedelta(hours=5)))  # already 3 November there
    first = writer.write("acme", local, line(AT))
    second = writer.write("acme", AT + timedelta(seconds=1), line(AT + timedelta(seconds=1)))
    assert first == tmp_path / "acme" / "2026-11-02.jsonl"
    assert second == tmp_path / "acme" / "2026-11-03.jsonl"
    assert json.loads(first.read_text())["polled_at"] == "2026-11-02T23:59:59.999Z"


def test_a_torn_line_that_is_whole_json_gets_its_line_break(tmp_path: Path) -> None:
    path = tmp_path / "acme" / "2026-11-02.jsonl"
    path.parent.mkdir()
    whole = json.dumps(line(AT, 2))
    path.write_text(json.dumps(line(AT)) + "\n" + whole)
    logged: list[str] = []
    SnapshotWriter(tmp_path, logged.append).write("acme", AT, line(AT, 1))
    texts = path.read_text().splitlines()
    assert len(texts) == 3 and texts[1] == whole and all(json.loads(t) for t in texts)
    assert logged == [f"{path}: torn last line repaired (0 byte(s) dropped)"]


def test_a_torn_partial_line_is_cut_before_the_next_line(tmp_path: Path) -> None:
    path = tmp_path / "acme" / "2026-11-02.jsonl"
    path.parent.mkdir()
    good = json.dumps(line(AT)) + "\n"
    path.write_text(good + json.dumps(line(AT, 3))[:40])
    logged: list[str] = []
    SnapshotWriter(tmp_path, logged.append).write("acme", AT, line(AT, 1))
    texts = path.read_text().splitlines()
    assert texts[0] == good.strip() and json.loads(texts[1])["rows"] == [{"SessionId": "0"}] and len(texts) == 2
    assert logged == [f"{path}: torn last line cut (40 byte(s) dropped)"]


def test_start_up_repairs_the_newest_file(tmp_path: Path) -> None:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "2026-11-01.jsonl").write_text('{"a": 1}\n{"torn')
    (folder / "2026-11-02.jsonl").write_text('{"a": 1}\n{"torn')
    SnapshotWriter(tmp_path).repair_latest("acme")
    assert (folder / "2026-11-02.jsonl").read_text() == '{"a": 1}\n'
    assert (folder / "2026-11-01.jsonl").read_text().endswith('{"torn')


def test_a_file_that_is_one_torn_line_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"instance": "ac')
    assert repair_torn_line(path) == "cut" and path.read_bytes() == b""
    assert repair_torn_line(path) is None


@settings(max_examples=examples(50))
@given(
    lines=st.lists(st.integers(0, 3), min_size=1, max_size=5),
    cut=st.integers(0, 2000),
)
def test_any_truncation_leaves_whole_lines_only(tmp_path_factory, lines: list[int], cut: int) -> None:
    """Wherever a crash cuts the file, after the repair every line parses and the whole lines before the cut stay."""
    tmp = tmp_path_factory.mktemp("torn")
    data = b"".join((json.dumps(line(AT, n)) + "\n").encode() for n in lines)
    cut = min(cut, len(data))
    path = tmp / "acme" / "2026-11-02.jsonl"
    path.parent.mkdir()
    path.write_bytes(data[:cut])
    SnapshotWriter(tmp).write("acme", AT, line(AT, 9))
    result = path.read_bytes()
    kept = data[:cut] if data[:cut].endswith(b"\n") or not data[:cut] else None
    texts = result.decode().splitlines()
    assert all(json.loads(t) for t in texts) and json.loads(texts[-1])["rows"][-1] == {"SessionId": "8"}
    whole_before = data[: data[:cut].rfind(b"\n") + 1]
    assert result.startswith(whole_before)
    if kept is not None:
        assert result == kept + (json.dumps(line(AT, 9), separators=(",", ":")) + "\n").encode()


@settings(max_examples=examples(100))
@given(now=st.floats(1e9, 2e9), every=st.sampled_from([1.0, 5.0, 60.0, 300.0, 3600.0]))
def test_next_boundary_is_the_next_wall_clock_multiple(now: float, every: float) -> None:
    b = next_boundary(now, every)
    assert now - 1e-3 <= b < now + every and abs(b / every - round(b / every)) < 1e-9
