"""`auditor nightly` on the command line: exit codes, one-line errors, the lock."""

from __future__ import annotations

import multiprocessing
import shlex
from datetime import datetime, timezone
from pathlib import Path

from nightly_fixtures import write_day, write_entitlements

from auditor.audit import runner
from auditor.exitcodes import ExitCode
from auditor.runlog import RunRecord, append_run
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


def _readme_run_record_commands() -> list[list[str]]:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The run records", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("auditor sql")]


def test_the_readme_queries_of_the_run_records_work(invoke, tmp_path: Path) -> None:
    wh = Warehouse.open(tmp_path / "wh", create=True)
    started = datetime(2026, 11, 30, 2, 15, tzinfo=timezone.utc)
    record = RunRecord(run_id="20261130T021500Z-3fa2c1", started_at=started, finished_at=started, status="ok",
                       logs="/srv/erp-logs", ingest_run_id="r1", events_accepted=7, total_s=1.25)
    with wh.transaction() as tx:
        append_run(tx, record)
    commands = _readme_run_record_commands()
    assert len(commands) == 4
    for args in commands:
        result = invoke(*args[:1], "-w", wh.root, *args[1:])
        assert result.exit_code == 0, (args, result.output)
    last_week = invoke("sql", "-w", wh.root, "-f", "csv", *commands[0][1:])
    assert last_week.stdout.splitlines()[1] == "20261130T021500Z-3fa2c1,ok,,0,7,0,1.3"


def test_exit_codes_of_a_night(invoke, tmp_path: Path) -> None:
    wh, logs, out = tmp_path / "wh", tmp_path / "logs", tmp_path / "reports"
    ent = write_entitlements(tmp_path / "config")
    write_day(logs, 1)
    base = ("nightly", "-w", wh, "--logs", logs, "--entitlements", ent)
    # New breaches with --fail-on-breach: 3, after a complete run.
    first = invoke(*base, "--reports", out, "--fail-on-breach")
    assert first.exit_code == ExitCode.BREACHES_FOUND, first.output
    assert first.stderr.count("\n") == 1 and first.stderr.startswith("nightly ")
    assert " ok in " in first.stderr and "1 new breach(es)" in first.stderr
    paths = first.stdout.splitlines()
    assert paths[-1] == str(out / "index.html") and all(Path(p).is_file() for p in paths)
    # Nothing new: 0 even with the flag.
    again = invoke(*base, "--reports", out, "--fail-on-breach")
    assert again.exit_code == ExitCode.OK, again.output
    assert "0 new breach(es)" in again.stderr and again.stdout == ""
    # New breaches without the flag: 0.
    write_day(logs, 2)
    plain = invoke(*base, "--quiet")
    assert plain.exit_code == ExitCode.OK, plain.output
    assert plain.stderr == "" and plain.stdout == ""


def _fails(*args: object, **kwargs: object) -> None:
    raise OSError(28, "No space left on device")


def test_a_failed_night_is_one_line_and_status_1(invoke, tmp_path: Path, monkeypatch) -> None:
    wh, logs = tmp_path / "wh", tmp_path / "logs"
    write_day(logs, 1)
    ent = write_entitlements(tmp_path / "config")
    with monkeypatch.context() as patch:
        patch.setattr(runner, "replace_outputs", _fails)
        result = invoke("nightly", "-w", wh, "--logs", logs, "--entitlements", ent)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert result.stderr.count("\n") == 1
    assert "failed in the audit stage" in result.stderr and "next run completes it" in result.stderr
    again = invoke("nightly", "-w", wh, "--logs", logs, "--entitlements", ent, "--fail-on-breach")
    # The retry finds the breach the failed run did not get to record.
    assert again.exit_code == ExitCode.BREACHES_FOUND, again.output


def test_a_night_with_no_logs_yet_succeeds(invoke, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    ent = write_entitlements(tmp_path / "config")
    args = ("nightly", "-w", tmp_path / "wh", "--logs", tmp_path / "logs", "--entitlements", ent, "--reports", tmp_path / "out")
    result = invoke(*args)
    assert result.exit_code == ExitCode.OK, result.output
    assert "0 new file(s) read" in result.stderr and result.stdout == ""
    # The first delivery is then audited and reported as usual.
    write_day(tmp_path / "logs", 1)
    result = invoke(*args)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines()[-1] == str(tmp_path / "out" / "index.html")


def test_entitlements_without_rows_need_the_explicit_flag(invoke, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_day(logs, 1)
    ent = write_entitlements(tmp_path / "config", "instance,customer,plan,extra_sessions,valid_from,valid_to,timezone,account_manager\n")
    args = ("nightly", "-w", tmp_path / "wh", "--logs", logs, "--entitlements", ent)
    refused = invoke(*args)
    assert refused.exit_code == ExitCode.USAGE, refused.output
    assert refused.stderr.count("\n") == 1
    assert f"{ent}: no entitlement rows; " in refused.stderr and "--allow-empty-entitlements" in refused.stderr
    allowed = invoke(*args, "--allow-empty-entitlements")
    assert allowed.exit_code == ExitCode.OK, allowed.output
    shown = invoke("sql", "-w", tmp_path / "wh", "-f", "csv", "SELECT DISTINCT status FROM instance_summary")
    assert shown.stdout.splitlines() == ["status", "unlicensed"]


def _shared_day(logs: Path, day: str, sid: str) -> None:
    """One file: session SID on acme used from two machines in turn (a shared session)."""
    import json

    lines = [{"ts": f"{day}T08:00:00Z", "instance": "acme.my.erp.net", "event": "login", "session_id": sid,
              "user": "mia", "device": "LAPTOP-MIA"}]
    lines += [{"ts": f"{day}T08:{m:02d}:00Z", "instance": "acme.my.erp.net", "event": "request", "session_id": sid,
               "device": ("PC-RECEPTION", "LAPTOP-MIA")[m % 2]} for m in range(1, 12)]
    logs.mkdir(exist_ok=True)
    (logs / f"{day}-{sid}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_new_findings_are_counted_and_fail_on_finding_exits_3(invoke, tmp_path: Path) -> None:
    from auditor.runlog import read_runs

    wh, logs = tmp_path / "wh", tmp_path / "logs"
    ent = write_entitlements(tmp_path / "config")
    base = ("nightly", "-w", wh, "--logs", logs, "--entitlements", ent)
    _shared_day(logs, "2026-10-05", "s1")
    # a finding without the flag: 0, but counted
    plain = invoke(*base)
    assert plain.exit_code == ExitCode.OK, plain.output
    assert "1 new finding(s)" in plain.stderr
    _shared_day(logs, "2026-10-06", "s2")
    first = invoke(*base, "--fail-on-finding")
    assert first.exit_code == ExitCode.FINDINGS_FOUND == 3, first.output
    # nothing new: 0 even with the flag; a breach is not a finding
    write_day(logs, 1)
    again = invoke(*base, "--fail-on-finding")
    assert again.exit_code == ExitCode.OK, again.output
    assert "new finding" not in again.stderr and "1 new breach(es)" in again.stderr
    runs = read_runs(Warehouse(wh))
    assert [r.new_findings for r in runs] == [1, 1, 0]
