"""`auditor nightly` on the command line: exit codes, one-line errors, the lock."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from auditor.exitcodes import ExitCode
from auditor.warehouse import Warehouse


def _hold_lock(path: str, ready, release) -> None:  # pragma: no cover - runs in a child
    wh = Warehouse(Path(path))
    with wh.lock():
        ready.set()
        release.wait(60)


def test_missing_or_bad_logs_option_is_a_usage_error(invoke, tmp_path: Path) -> None:
    missing = invoke("nightly", "-w", tmp_path / "wh")
    assert missing.exit_code == ExitCode.USAGE, missing.output
    assert missing.stderr.count("\n") == 1 and "--logs" in missing.stderr
    nowhere = invoke("nightly", "-w", tmp_path / "wh", "--logs", tmp_path / "no-such-dir")
    assert nowhere.exit_code == ExitCode.USAGE, nowhere.output
    assert nowhere.stderr.count("\n") == 1 and "no-such-dir" in nowhere.stderr
    (tmp_path / "afile").write_text("x")
    not_a_dir = invoke("nightly", "-w", tmp_path / "wh", "--logs", tmp_path / "afile")
    assert not_a_dir.exit_code == ExitCode.USAGE, not_a_dir.output
    assert not (tmp_path / "wh").exists()


def test_a_warehouse_that_is_not_one_is_a_usage_error(invoke, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    result = invoke("nightly", "-w", tmp_path / "foreign", "--logs", tmp_path / "logs")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.count("\n") == 1 and "not an auditor warehouse" in result.stderr


def test_an_unknown_failure_point_is_refused(invoke, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    result = invoke("nightly", "-w", tmp_path / "wh", "--logs", tmp_path / "logs", env={"AUDITOR_FAIL_AT": "later"})
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "AUDITOR_FAIL_AT=later" in result.stderr and result.stderr.count("\n") == 1


def test_a_second_run_is_refused_at_once_while_another_holds_the_warehouse(invoke, tmp_path: Path) -> None:
    wh_dir, logs = tmp_path / "wh", tmp_path / "logs"
    logs.mkdir()
    wh = Warehouse.open(wh_dir, create=True)
    before = wh.manifest()
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(wh_dir), ready, release))
    child.start()
    try:
        assert ready.wait(60)
        result = invoke("nightly", "-w", wh_dir, "--logs", logs)
    finally:
        release.set()
        child.join(60)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert result.stderr.count("\n") == 1
    assert f"in use by auditor pid {child.pid}" in result.stderr
    assert result.stdout == ""
    # The refused run changed nothing, not even the run records.
    assert wh.manifest() == before
