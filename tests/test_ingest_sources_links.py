"""Paths that are not readable regular files: symbolic link loops, dangling links, devices,
named pipes, no permission. Named on the command line they are a usage error saying why; found
in a directory they are skipped, said why, logged, and every other file is read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.exitcodes import ExitCode
from auditor.ingest import ingest
from auditor.nightly import run_nightly, summary_line
from auditor.warehouse import Warehouse
from tests.conftest import PROJECT_ROOT
from tests.ingest_support import event, rows, write_events

EXPECTED_SKIPS = {
    "a.jsonl": "symbolic link loop",
    "b.jsonl": "symbolic link loop",
    "gone.jsonl": "dangling symbolic link (to missing/x.jsonl)",
    "pipe.jsonl": "not a regular file (named pipe)",
    "zero.jsonl": "not a regular file (character device)",
}


@pytest.fixture
def hostile_logs(tmp_path: Path) -> Path:
    """A logs directory with one good file and every kind of path that cannot be read."""
    logs = tmp_path / "logs"
    write_events(logs / "good.jsonl", [event(), event(ts="2026-10-01T08:01:00Z")])
    (logs / "a.jsonl").symlink_to("b.jsonl")
    (logs / "b.jsonl").symlink_to("a.jsonl")
    (logs / "gone.jsonl").symlink_to("missing/x.jsonl")
    (logs / "zero.jsonl").symlink_to("/dev/zero")
    os.mkfifo(logs / "pipe.jsonl")
    (logs / "notes.txt").symlink_to("nowhere")  # not named like a log: listed as not read, no problem
    (logs / "sub").mkdir()
    write_events(logs / "sub" / "more.jsonl", [event(ts="2026-10-01T09:00:00Z")])
    (logs / "sub" / "up").symlink_to("..")
    return logs


def test_a_directory_with_broken_links_and_devices_is_read_and_each_skip_says_why(hostile_logs: Path) -> None:
    wh = Warehouse.open(hostile_logs.parent / "wh", create=True)
    result = ingest(wh, [hostile_logs])
    assert result.accepted == 3
    skipped = {f.path.name: f.skipped for f in result.files if f.skipped}
    assert skipped == EXPECTED_SKIPS | {"up": "symbolic link loop (to a directory that contains it)"}
    assert result.ignored == [hostile_logs / "notes.txt"]
    logged = rows(wh, 'SELECT file, skipped, "read", accepted, duplicates, rejected, file_sha256 FROM ingest_log WHERE skipped IS NOT NULL')
    assert {Path(file).name: reason for file, reason, *_ in logged} == skipped
    assert all(r[2:] == (0, 0, 0, 0, None) for r in logged)
    assert rows(wh, "SELECT count(*) FROM ingest_log WHERE skipped IS NULL") == [(2,)]


def test_the_summary_names_each_skipped_file_and_its_reason(invoke, hostile_logs: Path) -> None:
    result = invoke("ingest", "-w", hostile_logs.parent / "wh", hostile_logs)
    assert result.exit_code == 0, result.output
    for name, reason in EXPECTED_SKIPS.items():
        (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith(str(hostile_logs / name))]
        assert line.rstrip().endswith(f"skipped: {reason}")
    assert "6 path(s) could not be read and were skipped" in result.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED_SKIPS))
def test_such_a_path_named_on_the_command_line_is_a_usage_error_saying_why(invoke, hostile_logs: Path, name: str) -> None:
    result = invoke("ingest", "-w", hostile_logs.parent / "wh", hostile_logs / name)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1 and EXPECTED_SKIPS[name] in result.stderr, result.stderr
    assert not (hostile_logs.parent / "wh").exists()


def test_nightly_survives_the_same_paths_and_logs_them(hostile_logs: Path) -> None:
    wh = Warehouse.open(hostile_logs.parent / "wh", create=True)
    result = run_nightly(wh, hostile_logs)
    assert result.record.status == "ok" and result.record.events_accepted == 3
    assert {p.name for p, _ in result.skipped} == set(EXPECTED_SKIPS) | {"up"}
    assert "6 path(s) could not be read" in summary_line(result)
    assert rows(wh, "SELECT count(*) FROM ingest_log WHERE skipped IS NOT NULL") == [(6,)]
    again = run_nightly(wh, hostile_logs)  # still there the next night: logged again, nothing else read
    assert again.record.status == "ok" and again.record.events_read == 0 and len(again.skipped) == 6


def _without_root_powers() -> list[str]:
    """A command prefix under which file permissions apply to this process (we may run as root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to drop root's power to read any file")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_file_without_read_permission_is_skipped_as_permission_denied(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_events(logs / "good.jsonl", [event()])
    locked = write_events(logs / "locked.jsonl", [event(ts="2026-10-01T09:00:00Z")])
    locked.chmod(0)
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    run = subprocess.run(
        [*_without_root_powers(), sys.executable, "-m", "auditor", "ingest", "-w", str(tmp_path / "wh"), str(logs)],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "skipped: permission denied" in run.stderr
    assert rows(tmp_path / "wh", "SELECT file, skipped FROM ingest_log ORDER BY file") == [
        (str(logs / "good.jsonl"), None),
        (str(locked), "permission denied"),
    ]
