"""Fuzz: random bytes, random field values and random cuts of compressed files go through ingest
and then the audit. Every line read ends in exactly one place, and nothing raises but a
one-line usage error about a file that is not a log at all."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from pathlib import Path

import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from budget import examples

from auditor.audit import run_audit
from auditor.errors import InputFileError
from auditor.ingest import ingest
from auditor.warehouse import Warehouse

FIELDS = ("ts", "instance", "event", "session_id", "seats", "user", "user_type", "device", "app", "auth_flow", "reason")

_timestamps = st.one_of(
    st.sampled_from([
        "2026-10-05T08:00:00Z", "2026-10-05 08:20:00.1234567", "2026-10-05T09:00:00+14:00", "2026-10-05T07:00:00-12:00",
        "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "-001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
        "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z", "2099-06-01T00:00:00Z",
        "294247-01-10T04:00:54Z", "2026-02-30T00:00:00Z", "infinity", "-infinity", "epoch", "2026-10-05",
    ]),
    st.datetimes().map(lambda d: d.isoformat()),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
_text = st.text(max_size=12)
_values = st.one_of(
    st.none(), _text, st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.sampled_from(["", " ", "\u200b", "a\u0000b"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(_text, st.integers(), max_size=2),
)
_events = st.fixed_dictionaries(
    {
        "ts": _timestamps,
        "instance": st.one_of(st.sampled_from(["acme.my.erp.net", "аcme.my.erp.net", "index.html", " ACME.my.erp.net "]), _values),
        "event": st.one_of(st.sampled_from(["login", "request", "logout", "login_failed", "restart"]), _values),
        "session_id": st.one_of(st.sampled_from(["s1", "s2", "s3"]), _values),
    },
    optional={
        "seats": st.one_of(st.integers(-5, 2**40), st.sampled_from(["2", "1000", "1001", "2147483647", "1e3"]), _values),
        "user": _values, "user_type": st.one_of(st.sampled_from(["INT", "vir", "APP"]), _values), "device": _values,
        "app": _values, "auth_flow": st.one_of(st.just("client_credentials"), _values), "reason": _values,
    },
)


def _jsonl(events: list[dict]) -> bytes:
    return "".join(json.dumps(e, default=str) + "\n" for e in events).encode("utf-8", "surrogatepass")


def _csv(events: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for e in events:
        writer.writerow(["" if e.get(f) is None else str(e.get(f)) for f in FIELDS])
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def log_files(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(["jsonl", "csv"]))
    kind = draw(st.sampled_from(["events", "events", "bytes"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=400))
        if fmt == "csv":  # a CSV log needs its header; random bytes follow it
            body = ",".join(FIELDS).encode() + b"\n" + body
    else:
        events = draw(st.lists(_events, max_size=12))
        body = _jsonl(events) if fmt == "jsonl" else _csv(events)
    compression = draw(st.sampled_from(["", ".gz", ".zst"]))
    if compression == ".gz":
        body = gzip.compress(body)
    elif compression == ".zst":
        body = zstandard.ZstdCompressor().compress(body)
    if compression and draw(st.booleans()):
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=8))
    return f"log.{fmt}{compression}", body


@settings(max_examples=examples(15))
@given(files=st.lists(log_files(), min_size=1, max_size=3))
def test_any_input_is_counted_and_audited(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i, (name, body) in enumerate(files):
            path = root / "logs" / f"{i}-{name}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(body)
            paths.append(path)
        wh = Warehouse.open(root / "wh", create=True)
        try:
            result = ingest(wh, paths)
        except InputFileError as exc:
            # only a named CSV file whose header is not a log's (a cut inside the header) may be refused
            assert "CSV header" in str(exc) or "cannot read" in str(exc), exc
            return
        for f in result.files:
            assert f.read == f.accepted + f.duplicates + f.rejected, f
        con = wh.connect()
        try:
            counted = con.execute("SELECT sum(read), sum(accepted), sum(rejected) FROM ingest_log").fetchone()
            assert counted[0] == result.read and counted[1] == result.accepted and counted[2] == result.rejected
            assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == result.rejected
            assert con.execute("SELECT count(*) FROM events").fetchone()[0] == result.accepted
        finally:
            con.close()
        # no accepted line can make the audit fail
        run_audit(wh)
