"""`auditor ingest` on the command line: summary, exit codes, errors, quiet, progress, and `auditor sql` over its tables."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.exitcodes import ExitCode
from tests.ingest_support import event, write_events, write_lines

EVENTS = [event(ts=f"2026-10-01T08:{m:02d}:00Z", session_id=f"s{m}") for m in range(3)]


def test_ingest_prints_an_aligned_summary_on_stderr(invoke, tmp_path: Path) -> None:
    a = write_events(tmp_path / "a.jsonl", EVENTS + EVENTS[:1])
    b = write_lines(tmp_path / "b.csv", ["ts,instance,event,session_id,colour", "2026-10-01T09:00:00Z,acme,restart,,red", "bad"])
    result = invoke("ingest", "-w", tmp_path / "wh", a, b)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].split() == ["file", "read", "accepted", "duplicates", "rejected"]
    assert lines[2].split() == [str(a), "4", "3", "1", "0"]
    assert lines[3].split() == [str(b), "2", "1", "0", "1"]
    assert lines[4].split() == ["total", "6", "4", "1", "1"]
    assert len({len(line) for line in lines[1:5]}) == 1  # aligned
    assert "unknown fields, ignored: colour" in result.stderr
    assert "1 rejected line(s)" in result.stderr


def test_second_ingest_of_the_same_file_says_nothing_is_new(invoke, tmp_path: Path) -> None:
    a = write_events(tmp_path / "a.jsonl", EVENTS)
    invoke("ingest", "-w", tmp_path / "wh", a)
    again = invoke("ingest", "-w", tmp_path / "wh", a)
    assert again.exit_code == 0
    assert again.stderr.splitlines()[2].split() == [str(a), "3", "0", "3", "0"]
    assert "nothing new" in again.stderr


def test_quiet_prints_nothing(invoke, tmp_path: Path) -> None:
    a = write_lines(tmp_path / "a.jsonl", ["{bad"])
    result = invoke("ingest", "--quiet", "-w", tmp_path / "wh", a)
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_warehouse_from_environment(invoke, tmp_path: Path) -> None:
    a = write_events(tmp_path / "a.jsonl", EVENTS)
    result = invoke("ingest", "-q", a, env={"AUDITOR_WAREHOUSE": str(tmp_path / "envwh")})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "envwh" / "manifest.json").is_file()


@pytest.mark.parametrize("case", ["missing", "unreadable", "not-a-warehouse", "no-paths", "unknown-kind"])
def test_bad_command_lines_are_one_line_and_exit_2(invoke, tmp_path: Path, case: str) -> None:
    good = write_events(tmp_path / "a.jsonl", EVENTS)
    args: list = ["ingest", "-w", tmp_path / "wh"]
    if case == "missing":
        args += [good, tmp_path / "nope.jsonl"]
    elif case == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        locked = write_events(tmp_path / "locked.jsonl", EVENTS)
        locked.chmod(0)
        args += [locked]
    elif case == "not-a-warehouse":
        other = tmp_path / "other"
        other.mkdir()
        (other / "something.txt").write_text("x")
        args = ["ingest", "-w", other, good]
    elif case == "unknown-kind":
        args += [write_lines(tmp_path / "log.txt", ["x"])]
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    if case in ("missing", "unknown-kind"):
        assert not (tmp_path / "wh").exists()  # nothing created for a bad command line


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_sql_over_events_rejects_and_ingest_log(invoke, tmp_path: Path, fmt: str) -> None:
    a = write_lines(tmp_path / "a.jsonl", [json.dumps(e) for e in EVENTS] + ["{bad"])
    invoke("ingest", "-q", "-w", tmp_path / "wh", a)
    queries = {
        "events": ("SELECT instance, count(*) AS n FROM events GROUP BY ALL", [["instance", "n"], ["acme.my.erp.net", "3"]]),
        "rejects": ("SELECT line, reason FROM rejects", [["line", "reason"], ["4", "malformed JSON"]]),
        "ingest_log": ('SELECT "read", accepted, rejected FROM ingest_log', [["read", "accepted", "rejected"], ["4", "3", "1"]]),
    }
    for query, expected in queries.values():
        result = invoke("sql", "-w", tmp_path / "wh", "-f", fmt, query)
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            assert list(csv.reader(io.StringIO(result.stdout))) == expected
        elif fmt == "json":
            data = json.loads(result.stdout)
            assert [[str(v) for v in row.values()] for row in data] == expected[1:]
            assert list(data[0]) == expected[0]
        else:
            lines = result.stdout.splitlines()
            assert lines[0].split() == expected[0] and lines[2].split() == " ".join(expected[1]).split()


def _run_on_terminal(args: list[str], cwd: Path) -> str:
    """Run `auditor ARGS` with stderr on a pseudo-terminal; return what the terminal showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "auditor", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=follower, env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(leader)
    assert proc.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_progress_only_on_a_terminal_and_not_with_quiet(invoke, tmp_path: Path) -> None:
    big = write_events(tmp_path / "big.jsonl", [event(ts=f"2026-10-01T{h:02d}:{m:02d}:00Z", session_id=f"s{h}-{m}") for h in range(24) for m in range(60)])
    shown = _run_on_terminal(["ingest", "-w", str(tmp_path / "wh1"), str(big)], tmp_path)
    assert "big.jsonl" in shown and "\x1b[" in shown  # rich drew on the terminal
    assert "accepted" in shown
    quiet = _run_on_terminal(["ingest", "-q", "-w", str(tmp_path / "wh2"), str(big)], tmp_path)
    assert quiet == ""
    piped = invoke("ingest", "-w", tmp_path / "wh3", big)  # CliRunner: stderr is not a terminal
    assert "\x1b[" not in piped.stderr and "━" not in piped.stderr


def test_the_summary_marks_look_alike_names_among_every_instance_held(invoke, tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    first = write_events(tmp_path / "a.jsonl", [event(instance="acme.my.erp.net"), event(instance="globex.my.erp.net")])
    plain = invoke("ingest", "-w", wh, first)
    assert plain.exit_code == 0 and "mistaken" not in plain.stderr
    # Audited: the warehouse knows the first instances from its audit tables from now on.
    assert invoke("audit", "-q", "-w", wh).exit_code == 0
    spoof, hidden = "\u0430cme.my.erp.net", "glo\u200bbex.my.erp.net"  # a Cyrillic а; a zero-width space
    later = write_events(tmp_path / "b.jsonl", [event(instance=spoof), event(instance=hidden),
                                                event(instance="\u043f\u0440\u0438\u043c\u0435\u0440.my.erp.net")])
    result = invoke("ingest", "-w", wh, later)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    at = lines.index("2 instance name(s) could be mistaken for another; they are marked in the reports:")
    assert lines[at + 1] == ("  glo\\u200bbex.my.erp.net: has invisible characters (U+200B); "
                             "looks the same as instance globex.my.erp.net")
    assert lines[at + 2] == (f"  {spoof}: mixes Latin and Cyrillic letters (Cyrillic \u0430 U+0430); "
                             "looks the same as instance acme.my.erp.net")
    assert lines[-1].startswith("run ")
    quiet = invoke("ingest", "-q", "-w", wh, write_events(tmp_path / "c.jsonl", [event(instance="acme.my.erp.net")]))
    assert quiet.stderr == ""
