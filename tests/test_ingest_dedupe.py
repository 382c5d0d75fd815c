"""Duplicates within a file, across files and across runs; known files; pending_audit; a property test."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from budget import examples

from auditor.ingest import ingest
from auditor.warehouse import Warehouse
from tests.ingest_support import csv_lines, event, jsonl_lines, rows, write_events, write_lines

A = [event(ts=f"2026-10-01T08:0{i}:00Z", session_id=f"s{i}") for i in range(5)]


def test_duplicates_within_a_file(tmp_path: Path) -> None:
    path = write_events(tmp_path / "a.jsonl", A + A[:2] + [dict(A[0], instance="ACME.my.erp.net")])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    f = ingest(wh, [path]).files[0]
    assert (f.read, f.accepted, f.duplicates) == (8, 5, 3)
    assert rows(wh, "SELECT count(*) FROM events") == [(5,)]


def test_duplicates_across_files_count_in_the_later_file(tmp_path: Path) -> None:
    a = write_events(tmp_path / "a.jsonl", A[:3])
    b = write_events(tmp_path / "b.csv", A[1:])
    wh = Warehouse.open(tmp_path / "wh", create=True)
    result = ingest(wh, [a, b])
    assert [(f.accepted, f.duplicates) for f in result.files] == [(3, 0), (2, 2)]


def test_same_file_twice_adds_nothing_and_says_so(tmp_path: Path) -> None:
    path = write_events(tmp_path / "a.jsonl", A)
    wh = Warehouse.open(tmp_path / "wh", create=True)
    first = ingest(wh, [path])
    files_before = {k: v.name for k, v in wh.partitions("events").items()}
    second = ingest(wh, [path])
    assert (first.accepted, second.accepted, second.duplicates) == (5, 0, 5)
    assert second.new_spans == {}
    # nothing new: the partition files are the same ones
    assert {k: v.name for k, v in wh.partitions("events").items()} == files_before
    assert rows(wh, 'SELECT accepted, duplicates FROM ingest_log ORDER BY run_id') == [(5, 0), (0, 5)]


def test_a_new_day_rewrites_only_its_partition(tmp_path: Path) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    ingest(wh, [write_events(tmp_path / "d1.jsonl", A)])
    before = dict(wh.partitions("events"))
    ingest(wh, [write_events(tmp_path / "d2.jsonl", [event(ts="2026-10-02T08:00:00Z")])])
    after = dict(wh.partitions("events"))
    assert after["date=2026-10-01"] == before["date=2026-10-01"]
    assert set(after) == {"date=2026-10-01", "date=2026-10-02"}


def test_skip_known_files_recognises_content_not_names(tmp_path: Path) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    original = write_events(tmp_path / "in" / "a.jsonl", A[:3])
    assert ingest(wh, [original], skip_known_files=True).accepted == 3
    copy = tmp_path / "in" / "renamed-copy.jsonl"
    shutil.copy(original, copy)
    changed = write_events(tmp_path / "in" / "a.jsonl", A)  # grew by two events
    result = ingest(wh, [copy, changed], skip_known_files=True)
    by_name = {f.path.name: f for f in result.files}
    assert by_name["renamed-copy.jsonl"].skipped_known and by_name["renamed-copy.jsonl"].read == 0
    assert not by_name["a.jsonl"].skipped_known
    assert (by_name["a.jsonl"].accepted, by_name["a.jsonl"].duplicates) == (2, 3)
    # plain ingest reads every file given
    again = ingest(wh, [copy])
    assert (again.files[0].read, again.files[0].duplicates, again.files[0].skipped_known) == (3, 3, False)


def test_new_spans_and_pending_audit_widen(tmp_path: Path) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    r1 = ingest(wh, [write_events(tmp_path / "1.jsonl", [event(ts="2026-10-02T10:00:00Z"), event(ts="2026-10-02T12:00:00Z", instance="b.my.erp.net")])])
    t = lambda s: datetime.fromisoformat(s).replace(tzinfo=timezone.utc)  # noqa: E731
    assert r1.new_spans == {"acme.my.erp.net": (t("2026-10-02T10:00:00"), t("2026-10-02T10:00:00")), "b.my.erp.net": (t("2026-10-02T12:00:00"), t("2026-10-02T12:00:00"))}
    r2 = ingest(wh, [write_events(tmp_path / "2.jsonl", [event(ts="2026-10-01T09:00:00Z"), event(ts="2026-10-03T09:00:00Z"), event(ts="2026-10-02T10:00:00Z")])])
    assert r2.new_spans == {"acme.my.erp.net": (t("2026-10-01T09:00:00"), t("2026-10-03T09:00:00"))}
    pending = wh.state().pending_audit
    assert {k: [v.first, v.last] for k, v in pending.items()} == {
        "acme.my.erp.net": [t("2026-10-01T09:00:00"), t("2026-10-03T09:00:00")],
        "b.my.erp.net": [t("2026-10-02T12:00:00"), t("2026-10-02T12:00:00")],
    }


# -- property test against a plain Python reference ---------------------------------------------

_text = st.text(alphabet="abcXYZ019 ._-", min_size=0, max_size=6)
_start = datetime(2026, 10, 1, 22, tzinfo=timezone.utc)


@st.composite
def _events(draw: st.DrawFn) -> dict:
    instant = _start + timedelta(seconds=draw(st.integers(0, 4 * 3600)), microseconds=draw(st.sampled_from([0, 1, 500000, 999999])))
    offset = draw(st.sampled_from([None, 0, 120, -330]))
    local = instant + timedelta(minutes=offset or 0)
    sep = draw(st.sampled_from(["T", " "]))
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (f".{local.microsecond:06d}" if local.microsecond or draw(st.booleans()) else "")
    if offset is not None:
        text += "Z" if offset == 0 and draw(st.booleans()) else f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return {
        "ts": text,
        "instance": draw(st.sampled_from(["acme.my.erp.net", " ACME.my.erp.net", "b.MY.erp.net  "])),
        "event": draw(st.sampled_from(["login", "request", "logout", "LOGIN", "restart", "login_failed"])),
        "session_id": draw(st.one_of(st.none(), st.sampled_from(["s1", " s1", "s2"]))),
        "seats": draw(st.one_of(st.none(), st.integers(1, 3))),
        "user": draw(st.one_of(st.none(), _text)),
        "user_type": draw(st.one_of(st.none(), st.sampled_from(["INT", "int", "VIR"]))),
        "auth_flow": draw(st.one_of(st.none(), st.sampled_from(["client_credentials", "Client_Credentials"]))),
    }


def _reference(e: dict) -> tuple | None:
    """The normalised event, or None when it must be rejected — the contract, written plainly."""
    ts = datetime.fromisoformat(e["ts"].replace(" ", "T").replace("Z", "+00:00"))
    ts = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)

    def text(v):  # noqa: ANN001, ANN202
        return None if v is None or str(v).strip(" ") == "" else str(v).strip(" ")

    event_ = e["event"].strip().lower()
    session = text(e["session_id"])
    if session is None and event_ in ("login", "request", "logout"):
        return None
    user_type, auth_flow = text(e["user_type"]), text(e["auth_flow"])
    return (
        ts.astimezone(timezone.utc), e["instance"].strip(" ").lower(), event_, session, e["seats"] or 1, text(e["user"]),
        user_type.upper() if user_type else None, None, None, auth_flow.lower() if auth_flow else None, None,
    )


@settings(max_examples=examples(10))
@given(runs=st.lists(st.lists(st.tuples(st.sampled_from(["jsonl", "csv"]), st.lists(_events(), max_size=12)), min_size=1, max_size=3), min_size=1, max_size=3))
def test_ingest_matches_a_plain_reference(tmp_path_factory, runs) -> None:  # noqa: ANN001
    root = tmp_path_factory.mktemp("prop")
    wh = Warehouse.open(root / "wh", create=True)
    seen: set[tuple] = set()
    for r, files in enumerate(runs):
        paths, expected = [], []
        for i, (fmt, events) in enumerate(files):
            path = root / f"run{r}" / f"f{i}.{fmt}"
            write_lines(path, jsonl_lines(events) if fmt == "jsonl" else csv_lines(events))
            paths.append(path)
            accepted = duplicates = rejected = 0
            for e in events:
                ref = _reference(e)
                if ref is None:
                    rejected += 1
                elif ref in seen:
                    duplicates += 1
                else:
                    seen.add(ref)
                    accepted += 1
            expected.append((len(events), accepted, duplicates, rejected))
        result = ingest(wh, paths)
        assert [(f.read, f.accepted, f.duplicates, f.rejected) for f in result.files] == expected
    stored = rows(wh, 'SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason FROM events')
    assert sorted(stored, key=repr) == sorted(seen, key=repr)
    assert len(stored) == len(set(stored))
