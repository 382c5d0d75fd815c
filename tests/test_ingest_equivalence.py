"""Staging gives the same rows as the statements ingest was first built with, on any input.

The statements that parse, validate and normalise a batch were rewritten for speed
(benchmarks/bench_ingest.py). ``tests/ingest_reference/`` keeps the first, plainer
versions (commit 9fc30d5) as the oracle: for random lines — valid events, odd
spacing, unknown and duplicated keys, JSON that is not an object, broken JSON,
bad quoting, blank lines, CRLF — the staged rows must be identical: every column
of an accepted line; line number, reason, raw text and unknown fields of a rejected one.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st
from budget import examples

from auditor.ingest.pipeline import _header_names
from auditor.ingest.reader import BATCH_SCHEMA, PADDED_KEY, LineReader
from auditor.ingest.sources import find_sources
from auditor.ingest.staging import StagingSession
from auditor.limits import MAX_SEATS, InputBounds
from auditor.tables import EVENTS
from tests.ingest_support import FIELDS, write_lines

REFERENCE = Path(__file__).parent / "ingest_reference"
KNOWN = list(FIELDS)

_value_text = st.text(alphabet=st.sampled_from(list('aZ09 ._-:"\\,é\t\u00a0')), max_size=6)
_ts = st.sampled_from([
    "2026-10-01T08:00:00Z", "2026-10-01 08:00:00.123456", " 2026-10-01T08:00:00+02:00 ", "2026-10-01T08:00:00.1234567Z",
    "2026-10-01", "infinity", "yesterday", "", "2026-10-01T25:00:00Z", "2026-09-30T23:59:59-05:30",
    "1999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "-001-01-01T00:00:00Z",
])
_scalar = st.one_of(
    st.none(), _value_text, st.integers(-3, 5), st.sampled_from([3.5, 1e2, True, False, "2", " 3 ", "04", "99999999999", 1000, "1001", 2147483647]),
    st.just({"nested": 1}), st.just([1, "a"]),
)
_field_value = {
    "ts": st.one_of(_ts, st.none(), st.integers(0, 2)),
    "instance": st.one_of(st.sampled_from(["acme.my.erp.net", " ACME.my.erp.net ", "", "b"]), _scalar),
    "event": st.one_of(st.sampled_from(["login", "REQUEST", " logout", "login_failed", "restart", "nope", ""]), _scalar),
    "session_id": st.one_of(st.sampled_from(["s1", " s2 ", ""]), _scalar),
    "seats": _scalar,
}

#: Values of an event that passes validation, spaces and case aside: most random lines would be
#: rejects, whose event columns are never read.
_good_value = {
    "ts": st.sampled_from(["2026-10-01T08:00:00Z", " 2026-10-01 08:00:00.5 ", "2026-10-01T08:00:00+02:00"]),
    "instance": st.sampled_from(["acme.my.erp.net", " ACME.my.erp.net ", "b "]),
    "event": st.sampled_from(["restart", " Login_Failed", "restart "]),
    "seats": st.sampled_from([None, "2", " 3 ", 4]),
}


@st.composite
def _json_line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["object"] * 6 + ["raw"]))
    if kind == "raw":
        return draw(st.sampled_from([
            "", "   ", "\t", "{broken", "[1, 2]", '"text"', "42", "null", "{}", '{"ts": "2026-10-01T08:00:00Z",}',
            '{"ts":"2026-10-01T08:00:00Z","ts":"2026-10-02T08:00:00Z","instance":"a","event":"restart"}',
            '{"instance":"a","event":"restart","ts":"2026-10-01T08:00:00Z","instance":"b"}',
            ' {"ts":"2026-10-01T08:00:00Z","instance":"a","event":"restart"}  ',
            '{"ts":"2026-10-01T08:00:00Z","instance":"a\\u0020","event":"restart","user":"\\u00e9"}',
        ]))
    keys = draw(st.lists(st.sampled_from(KNOWN + ["extra", "User", "ts "]), unique=True, max_size=9))
    values = _good_value if draw(st.booleans()) else _field_value
    obj: dict[str, Any] = {}
    for key in ["ts", "instance", "event"] + keys:
        if key in obj:
            continue
        if key == "ts" or key == "instance" or key == "event" or draw(st.booleans()):
            obj[key] = draw(values.get(key, _field_value.get(key, _scalar)))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    return json.dumps(obj, separators=separators, ensure_ascii=draw(st.booleans()))


def _csv_field(draw: st.DrawFn, value: Any) -> str:
    text = "" if value is None else str(value)
    style = draw(st.sampled_from(["plain", "plain", "quoted", "bad-quote"]))
    if style == "quoted" or (style == "plain" and ("," in text or '"' in text)):
        return '"' + text.replace('"', '""') + '"'
    if style == "bad-quote":
        return text + '"'
    return text


@st.composite
def _csv_file(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    extra = draw(st.lists(st.sampled_from([c for c in KNOWN if c not in ("ts", "instance", "event")] + ["extra"]), unique=True))
    header = draw(st.permutations(["ts", "instance", "event"] + extra))
    header_line = ",".join(draw(st.sampled_from([n, f" {n}"])) for n in header)
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", "  ", "a,b", ",,,,,,,,,,,,,,", '"open,' + "x" * 3])))
            continue
        values = _good_value if draw(st.booleans()) else _field_value
        cells = [_csv_field(draw, draw(values.get(name, _field_value.get(name, _scalar)))) for name in header]
        if draw(st.integers(0, 9)) == 0:
            cells.append("surplus")
        lines.append(",".join(cells))
    return [header_line, *lines], header


def _reference_rows(path: Path, fmt: str, file_no: int = 0) -> list[tuple]:
    """The staged rows as the first statements give them."""
    source = find_sources([path]).files[0]
    reader = LineReader(source)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("ingest_batch", BATCH_SCHEMA.empty_table())
        out: list[tuple] = []
        began = False
        for batch in reader.batches():
            if not began:
                if fmt == "csv":
                    con.execute("SET VARIABLE ingest_csv_header = $header::VARCHAR[]", {"header": _header_names(reader.header)})
                con.execute((REFERENCE / f"ingest_fields_{fmt}.sql").read_text())
                began = True
            con.register("ingest_batch", batch)
            stage = (REFERENCE / "ingest_stage.sql").read_text()
            select = stage[stage.index("COPY (") + len("COPY (") : stage.rindex(") TO $path")]
            window = InputBounds().window(datetime.now(timezone.utc))
            params = {"file_no": file_no, "not_before": window.not_before, "not_after": window.not_after, "max_seats": MAX_SEATS}
            out += con.execute(select, params).fetchall()
        return out
    finally:
        con.close()


def _staged_rows(path: Path, fmt: str, scratch: Path, file_no: int = 0) -> list[tuple]:
    """The staged rows as ingest stages them now."""
    source = find_sources([path]).files[0]
    reader = LineReader(source)
    scratch.mkdir(parents=True, exist_ok=True)
    session = StagingSession(scratch)
    try:
        began = False
        for batch in reader.batches():
            if not began:
                session.begin_file(fmt, _header_names(reader.header))
                began = True
            session.stage(batch, file_no)
        if not session.batches:
            return []
        return [tuple(r.values()) for r in session.staged_tables().drop_columns(["h"]).to_pylist()]
    finally:
        session.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _observable(row: tuple) -> tuple:
    """A staged row as ingest uses it: of a rejected line only its number, reason, raw text and
    unknown fields are ever read (the event columns of a reject are never merged)."""
    file_no, line, *event, reason, raw, unknown = row
    return (file_no, line, *(event if reason is None else [None] * len(event)), reason, raw, unknown)


def _same(path: Path, fmt: str, scratch: Path) -> None:
    expected = [_observable(r) for r in _reference_rows(path, fmt)]
    got = [_observable(r) for r in _staged_rows(path, fmt, scratch)]
    assert sorted(got, key=repr) == sorted(expected, key=repr)


@settings(max_examples=examples(25))
@given(lines=st.lists(_json_line(), max_size=14), crlf=st.booleans())
def test_jsonl_staging_matches_the_reference(tmp_path_factory, lines: list[str], crlf: bool) -> None:  # noqa: ANN001
    root = tmp_path_factory.mktemp("eq")
    path = write_lines(root / "f.jsonl", lines, newline="\r\n" if crlf else "\n")
    _same(path, "jsonl", root / "scratch")


@settings(max_examples=examples(25))
@given(line=_json_line())
def test_one_json_line_stages_as_the_reference(tmp_path_factory, line: str) -> None:  # noqa: ANN001
    """Single lines: most batches then show no padded field, so the untrimmed statement runs."""
    root = tmp_path_factory.mktemp("eq")
    _same(write_lines(root / "f.jsonl", [line]), "jsonl", root / "scratch")


@settings(max_examples=examples(25))
@given(data=_csv_file(), crlf=st.booleans())
def test_csv_staging_matches_the_reference(tmp_path_factory, data: tuple[list[str], list[str]], crlf: bool) -> None:  # noqa: ANN001
    lines, _ = data
    root = tmp_path_factory.mktemp("eq")
    path = write_lines(root / "f.csv", lines, newline="\r\n" if crlf else "\n")
    _same(path, "csv", root / "scratch")


def test_the_oracle_sees_a_difference(tmp_path: Path) -> None:
    """The comparison can fail: a line the reference rejects differs from one it accepts."""
    good = write_lines(tmp_path / "good.jsonl", ['{"ts":"2026-10-01T08:00:00Z","instance":"a","event":"restart"}'])
    bad = write_lines(tmp_path / "bad.jsonl", ['{"ts":"2026-10-01T08:00:00Z","instance":"a","event":"nope"}'])
    assert _reference_rows(good, "jsonl") != _staged_rows(bad, "jsonl", tmp_path / "s")
    assert _reference_rows(good, "jsonl") == _staged_rows(good, "jsonl", tmp_path / "s")


def _batches(path: Path) -> list:
    return list(LineReader(find_sources([path]).files[0]).batches())


def _stage_each_way(path: Path, fmt: str, scratch: Path) -> dict[str, list[tuple]]:
    """Stage PATH's batches four ways: with and without the JSON guard, trimming or not."""
    header = None
    if fmt == "csv":
        reader = LineReader(find_sources([path]).files[0])
        batches = list(reader.batches())
        header = _header_names(reader.header)
    else:
        batches = _batches(path)
    out: dict[str, list[tuple]] = {}
    for guard in (False, True):
        for padded in (b"0", b"1"):
            scratch.mkdir(parents=True, exist_ok=True)
            session = StagingSession(scratch)
            try:
                session.begin_file(fmt, header)
                for batch in batches:
                    session.stage(batch.replace_schema_metadata({PADDED_KEY: padded}), 0, guard=guard)
                out[f"guard={guard} padded={padded.decode()}"] = [tuple(r.values()) for r in session.staged_tables().drop_columns(["h"]).to_pylist()]
                out[f"guard={guard} padded={padded.decode()} retried"] = [session.guarded]
            finally:
                session.close()
    return out


CLEAN = ['{"ts":"2026-10-01T08:00:00Z","instance":"Acme.my.erp.net","event":"login","session_id":"s1","user_type":"int","seats":2}',
         '{"ts":"2026-10-01T08:00:01.5+02:00","instance":"b","event":"restart","user":"ann"}']


def test_fast_and_checked_staging_agree_on_clean_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "clean.jsonl", CLEAN)
    assert [b.schema.metadata[PADDED_KEY] for b in _batches(path)] == [b"0"]  # the reader saw no padded field
    ways = _stage_each_way(path, "jsonl", tmp_path / "s")
    rows_ = {k: v for k, v in ways.items() if not k.endswith("retried")}
    assert len({repr(v) for v in rows_.values()}) == 1, rows_
    assert [_observable(r) for r in rows_["guard=False padded=0"]] == [_observable(r) for r in _reference_rows(path, "jsonl")]
    assert ways["guard=False padded=0 retried"] == [0]  # no line was broken: one statement


def test_a_broken_line_makes_the_batch_staged_again_with_the_check(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "broken.jsonl", [*CLEAN, "{broken", "[1]"])
    ways = _stage_each_way(path, "jsonl", tmp_path / "s")
    assert ways["guard=False padded=1 retried"] == [1] and ways["guard=True padded=1 retried"] == [0]
    assert ways["guard=False padded=1"] == ways["guard=True padded=1"]
    reasons = [r[-3] for r in ways["guard=False padded=1"]]
    assert reasons == [None, None, "malformed JSON", "not a JSON object"]


def test_padded_fields_are_seen_and_trimmed(tmp_path: Path) -> None:
    lines = ['{"ts":"2026-10-01T08:00:00Z","instance":"a\\u0020","event":"restart"}']
    path = write_lines(tmp_path / "escaped-space.jsonl", lines)
    assert [b.schema.metadata[PADDED_KEY] for b in _batches(path)] == [b"1"]
    assert [r[3] for r in _staged_rows(path, "jsonl", tmp_path / "s")] == ["a"]
    for line in ['{"ts":"2026-10-01T08:00:00Z","instance":" a","event":"restart"}', '{"ts": "2026-10-01T08:00:00Z"}']:
        assert [b.schema.metadata[PADDED_KEY] for b in _batches(write_lines(tmp_path / "p.jsonl", [line]))] == [b"1"]
    csv_cases = {" a,b,c": b"1", "a, b,c": b"1", "a,b ,c": b"1", "a,b,c ": b"1", 'a,"b ",c': b"1", "a,b,c": b"0"}
    for line, expected in csv_cases.items():
        path = write_lines(tmp_path / "p.csv", ["ts,instance,event", line, "x,y,z"])
        assert [b.schema.metadata[PADDED_KEY] for b in _batches(path)] == [expected], line
    path = write_lines(tmp_path / "crlf.csv", ["ts,instance,event", "a,b,c "], newline="\r\n")
    assert [b.schema.metadata[PADDED_KEY] for b in _batches(path)] == [b"1"]


def _merge_both_ways(session: StagingSession) -> tuple[dict, dict, int]:
    """Each staged date merged as a new date (fast when no duplicate) and through the merge statement."""
    fast, slow = {}, {}
    empty = session.scratch / "empty.parquet"
    pq.write_table(EVENTS.schema.empty_table(), empty)
    merger = session.merger()
    try:
        for day, nos in session.staged_days().items():
            news = merger.merge_day(day, nos, None)
            fast[day] = (sorted(map(repr, news)), sorted(map(repr, _written(merger, empty.parent / f"fast-{day}.parquet"))))
            news = merger.merge_day(day, nos, empty)  # an empty partition: the statement runs
            slow[day] = (sorted(map(repr, news)), sorted(map(repr, _written(merger, empty.parent / f"slow-{day}.parquet"))))
        return fast, slow, merger.fast
    finally:
        merger.close()


def _written(merger, path: Path) -> list[tuple]:  # noqa: ANN001
    merger.write_day(path)
    return [tuple(r.values()) for r in pq.read_table(path).to_pylist()]


def test_new_dates_skip_the_merge_statement_only_when_nothing_repeats(tmp_path: Path) -> None:
    from tests.ingest_support import event, write_events

    unique = [event(ts=f"2026-10-0{1 + i % 2}T08:{i:02d}:00Z", session_id=f"s{i % 3}", instance=["a", "B"][i % 2]) for i in range(40)]
    repeated = [unique[0], unique[2], dict(unique[4], instance=" A")]  # of the first date only, one after normalising
    paths = [write_events(tmp_path / "one.jsonl", unique), write_events(tmp_path / "two.csv", repeated)]
    (tmp_path / "s1").mkdir()
    session = StagingSession(tmp_path / "s1")
    try:
        for no, path in enumerate(paths):
            source = find_sources([path]).files[0]
            reader = LineReader(source)
            for batch in reader.batches():
                session.begin_file(source.format, _header_names(reader.header))
                session.stage(batch, no)
        fast, slow, skipped = _merge_both_ways(session)
    finally:
        session.close()
    assert fast == slow
    assert skipped == 1  # 2026-10-02; 2026-10-01 has duplicates across the two files
    assert sum(len(written) for _, written in fast.values()) == 40


def test_small_batches_spilled_to_disk_give_the_same_warehouse(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Many batches per file and per date, every staged batch in an IPC file, and every date
    merged by the statement: the same warehouse."""
    from auditor.ingest import ingest, reader, staging
    from auditor.warehouse import Warehouse
    from tests.ingest_support import csv_lines, event, rows, write_events

    events = [event(ts=f"2026-10-0{1 + i % 3}T{i % 24:02d}:00:00Z", session_id=f"s{i % 7}", instance=["a", "b"][i % 2]) for i in range(120)]
    inputs = [
        write_events(tmp_path / "in" / "one.jsonl", events[:80] + events[:10]),
        write_lines(tmp_path / "in" / "two.csv", [*csv_lines(events[60:]), "bad,row"]),
        write_lines(tmp_path / "in" / "three.jsonl", ["{broken", *(json.dumps(e) for e in events[100:])]),
    ]
    queries = [
        'SELECT ts, instance, event, session_id, seats, "user", user_type, device, app, auth_flow, reason FROM events ORDER BY ALL',
        "SELECT file, line, reason, raw FROM rejects ORDER BY ALL",
        'SELECT file, "read", accepted, duplicates, rejected FROM ingest_log ORDER BY ALL',
    ]
    plain = Warehouse.open(tmp_path / "plain", create=True)
    expected = ingest(plain, inputs)
    monkeypatch.setattr(staging, "STAGED_MEMORY_BYTES", 0)
    monkeypatch.setattr(reader, "CHUNK_BYTES", 300)
    small = Warehouse.open(tmp_path / "small", create=True)
    result = ingest(small, inputs)
    assert result.read == expected.read == 90 + 61 + 21
    assert (result.accepted, result.duplicates, result.rejected) == (expected.accepted, expected.duplicates, expected.rejected) == (120, 50, 2)
    for q in queries:
        assert rows(small, q) == rows(plain, q), q
    assert rows(small, "SELECT count(*) FROM events")[0][0] == 120
    # and every date through the merge statement, its spilled batches streamed into DuckDB
    monkeypatch.setattr(staging, "FAST_DATE_ROWS", 0)
    merged = Warehouse.open(tmp_path / "merged", create=True)
    result = ingest(merged, inputs)
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (172, 120, 50, 2)
    assert result.new_spans == expected.new_spans
    for q in queries:
        assert rows(merged, q) == rows(plain, q), q


@settings(max_examples=examples(30))
@given(
    data=st.lists(
        st.tuples(st.sampled_from(["b", "a", "a.x", "B", "é", "ab"]), st.integers(0, 40), st.one_of(st.none(), st.sampled_from(["s2", "s10", "S1", ""]))),
        min_size=1, max_size=60,
    ),
    tied_share=st.sampled_from([0.0, 1.0]),
)
def test_partition_order_is_instance_ts_session(data: list[tuple], tied_share: float) -> None:
    """The numpy order (with its session_id fix-up of ties, or the general sort) equals a plain sort."""
    from datetime import datetime, timedelta, timezone

    import pyarrow as pa

    from auditor.ingest import staging

    base = datetime(2026, 10, 1, tzinfo=timezone.utc)
    table = pa.table({
        "instance": [d[0] for d in data],
        "ts": pa.array([base + timedelta(microseconds=d[1]) for d in data], pa.timestamp("us", tz="UTC")),
        "session_id": [d[2] for d in data],
    })
    old = staging.MAX_TIED_SHARE
    staging.MAX_TIED_SHARE = tied_share
    try:
        order = staging.partition_order(table)
    finally:
        staging.MAX_TIED_SHARE = old
    got = [(r["instance"].encode(), r["ts"], r["session_id"] is None, r["session_id"] or "") for r in table.take(order).to_pylist()]
    assert got == sorted(got)
    assert sorted(order.tolist() if hasattr(order, "tolist") else order.to_pylist()) == list(range(len(data)))


def test_small_files_staged_together_keep_their_own_figures(tmp_path: Path) -> None:
    """Small files of one format and header are staged in one statement: each keeps its counts,
    unknown fields, rejects and duplicates, as when each is staged alone."""
    from auditor.ingest import ingest, reader
    from auditor.warehouse import Warehouse
    from tests.ingest_support import csv_lines, event, rows, write_events

    a = [event(ts=f"2026-10-01T08:0{i}:00Z", session_id=f"a{i}") for i in range(4)]
    b = [event(ts=f"2026-10-02T08:0{i}:00Z", session_id=f"b{i}") for i in range(3)]
    inputs = [
        write_lines(tmp_path / "1.jsonl", [*(json.dumps(e) for e in a), "{broken"]),
        write_lines(tmp_path / "2.jsonl", [json.dumps(dict(b[0], extra=1)), *(json.dumps(e) for e in b[1:]), json.dumps(a[0])]),
        write_lines(tmp_path / "3.csv", csv_lines(b, columns=("ts", "instance", "event", "session_id"))),
        write_lines(tmp_path / "4.csv", [*csv_lines(a[:2], columns=("ts", "instance", "event", "session_id")), "x,y"]),
        write_lines(tmp_path / "5.csv", csv_lines(a[2:], columns=("instance", "ts", "event", "session_id", "note"))),
        write_events(tmp_path / "6.jsonl", [event(ts="2026-10-01T09:00:00Z", event="nope")]),
    ]
    figures = [(f.path.name, f.read, f.accepted, f.duplicates, f.rejected, f.unknown_fields) for f in ingest(Warehouse.open(tmp_path / "wh", create=True), inputs).files]
    assert figures == [
        ("1.jsonl", 5, 4, 0, 1, []),
        ("2.jsonl", 4, 3, 1, 0, ["extra"]),
        ("3.csv", 3, 0, 3, 0, []),
        ("4.csv", 3, 0, 2, 1, []),
        ("5.csv", 2, 0, 2, 0, ["note"]),
        ("6.jsonl", 1, 0, 0, 1, []),
    ]
    reasons = rows(tmp_path / "wh", "SELECT file, line, reason FROM rejects ORDER BY file, line")
    assert [(Path(f).name, line, reason) for f, line, reason in reasons] == [
        ("1.jsonl", 5, "malformed JSON"), ("4.csv", 4, "malformed CSV row: wrong number of fields"), ("6.jsonl", 1, "unknown event"),
    ]
    # the same with every file staged alone
    alone = Warehouse.open(tmp_path / "alone", create=True)
    old = reader.CHUNK_BYTES
    reader.CHUNK_BYTES = 1
    try:
        assert [(f.path.name, f.read, f.accepted, f.duplicates, f.rejected, f.unknown_fields) for f in ingest(alone, inputs).files] == figures
    finally:
        reader.CHUNK_BYTES = old


@settings(max_examples=examples(40))
@given(stamps=st.lists(st.one_of(st.none(), st.integers(0, 5 * 86_400 - 1)), max_size=40))
def test_a_staged_batch_comes_date_by_date(stamps: list[int | None]) -> None:
    """by_day: the same rows, valid events date by date in their input order within a date,
    rejects (no ts) last, and each date's run where its rows are, whatever the input's order."""
    from datetime import date, timedelta

    from auditor.ingest.staging import by_day

    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    ts = [None if s is None else start + timedelta(seconds=s) for s in stamps]
    rows = pa.table({"ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "line": pa.array(range(len(ts)), pa.int64())})
    ordered, runs = by_day(rows)
    lines = ordered.column("line").to_pylist()
    assert sorted(lines) == list(range(len(ts)))
    valid = [i for i, t in enumerate(ts) if t is not None]
    expected = sorted(valid, key=lambda i: ts[i].date()) + [i for i, t in enumerate(ts) if t is None]
    assert lines == expected
    days = sorted({ts[i].date() for i in valid})
    assert list(runs) == days
    for day, (offset, length) in runs.items():
        assert [ts[i].date() for i in lines[offset : offset + length]] == [day] * length
        assert length == sum(1 for i in valid if ts[i].date() == day)
    assert all(isinstance(d, date) for d in runs)


@settings(max_examples=examples(30))
@given(stamps=st.lists(st.one_of(st.none(), st.integers(0, 5 * 86_400 - 1)), min_size=1, max_size=40),
       chunk=st.integers(1, 40))
def test_a_spilled_batch_holds_each_date_as_its_own_record_batch(tmp_path_factory, stamps: list[int | None], chunk: int) -> None:  # noqa: ANN001
    """A staged batch moved to an IPC file: one record batch per date's run (then one of rejects),
    whatever the chunks of the staged rows; each date reads back as exactly its record batch,
    with the rows the batch held in memory. (A date read as a slice of a mapped file paged in
    far more of the file than the date's rows.)"""
    from datetime import timedelta

    from auditor.ingest.staging import StagedBatch, by_day

    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    ts = [None if s is None else start + timedelta(seconds=s) for s in stamps]
    rows = pa.table({"ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "line": pa.array(range(len(ts)), pa.int64())})
    ordered, runs = by_day(rows)
    ordered = pa.Table.from_batches(ordered.to_batches(max_chunksize=chunk), ordered.schema)
    in_memory = StagedBatch(ordered, None, ts.count(None), ordered.num_rows, runs)
    spilled = StagedBatch(ordered, None, ts.count(None), ordered.num_rows, runs)
    path = tmp_path_factory.mktemp("spill") / "staged.arrow"
    spilled.spill(path)
    assert spilled.rows is None and spilled.path == path
    with pa.memory_map(str(path)) as source:
        batches = pa.ipc.open_file(source)
        sizes = [batches.get_batch(i).num_rows for i in range(batches.num_record_batches)]
    assert sizes == [length for _, length in runs.values()] + ([ts.count(None)] if None in ts else [])
    for day, (_, length) in runs.items():
        got = spilled.day_rows(day)
        assert got.num_rows == length and got.column("line").num_chunks == 1
        assert got.to_pylist() == in_memory.day_rows(day).to_pylist()
    assert spilled.table().to_pylist() == ordered.to_pylist()
