"""The nightly batch: only new work, recognised by content, crash-safe, locked, recorded."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from nightly_fixtures import ACME, BOLT, ENTITLEMENTS_CHANGED, day_events, write_day, write_entitlements

from auditor import nightly, nightly_files
from auditor.audit import ENGINE_VERSION
from auditor.errors import AuditorError, UsageError
from auditor.nightly import NightlyFailedError, run_nightly
from auditor.report import batch
from auditor.runlog import read_runs
from auditor.tables import TABLES
from auditor.warehouse import LOCK_FILE, Transaction, Warehouse, read_table

#: every table but these must not depend at all on how the nights went
LOGS_OF_RUNS = ("nightly_runs", "ingest_log", "rejects")


def _sorted_rows(table: pa.Table) -> list[tuple]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def snapshot(wh: Warehouse) -> dict[str, list[tuple]]:
    """The warehouse's content that must be the same after any sequence of nights over the same files."""
    tables = {name: _sorted_rows(read_table(wh, name)) for name in TABLES if name not in LOGS_OF_RUNS}
    assert tables["events"] and tables["sessions"] and tables["breaches"]
    log = read_table(wh, "ingest_log").drop_columns(["run_id", "started_at", "finished_at", "file"])
    tables["ingest_log"] = _sorted_rows(log)
    tables["rejects"] = _sorted_rows(read_table(wh, "rejects").drop_columns(["run_id"]))
    return tables


def reports_snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    entitlements = write_entitlements(tmp_path / "config")
    return {"wh": tmp_path / "wh", "logs": tmp_path / "logs", "reports": tmp_path / "reports", "ent": entitlements}


def night(site: dict[str, Path], **kw):
    kw.setdefault("entitlements", site["ent"])
    kw.setdefault("reports", site["reports"])
    return run_nightly(Warehouse.open(site["wh"], create=True), site["logs"], **kw)


def test_a_night_ingests_audits_renders_and_records(site) -> None:
    write_day(site["logs"], 1)
    result = night(site)
    rec = result.record
    wh = Warehouse.open(site["wh"])
    assert (rec.status, rec.audit_mode, rec.files_seen, rec.files_ingested, rec.files_skipped) == ("ok", "full", 1, 1, 0)
    assert rec.events_read == rec.events_accepted == len(day_events(1))
    assert rec.instances_touched == [ACME, BOLT]
    assert rec.new_breaches == 1  # acme: four sessions against a limit of three
    assert read_table(wh, "breaches")["instance"].to_pylist() == [ACME]
    assert not wh.state().pending_audit and not wh.state().reports_owed
    assert read_runs(wh) == [rec]
    assert result.report_paths[-1] == site["reports"] / "index.html" and result.report_paths[-1].is_file()
    assert rec.reports_rendered == 2


def test_the_next_night_does_only_the_new_work(site) -> None:
    write_day(site["logs"], 1)
    night(site)
    write_day(site["logs"], 2)
    rec = night(site).record
    assert (rec.audit_mode, rec.files_seen, rec.files_ingested, rec.files_skipped) == ("incremental", 2, 1, 1)
    assert rec.events_accepted == len(day_events(2))
    assert rec.new_breaches == 1  # bolt's, on the second day; acme's is not new
    # A night with nothing new reads nothing and audits nothing.
    quiet = night(site).record
    assert (quiet.audit_mode, quiet.files_ingested, quiet.files_skipped, quiet.events_read) == ("none", 0, 2, 0)
    assert quiet.new_breaches == 0 and quiet.reports_rendered == 0
    assert [r.run_id for r in read_runs(Warehouse.open(site["wh"]))][-1] == quiet.run_id


def test_files_are_recognised_by_content_not_by_name(site) -> None:
    first = write_day(site["logs"], 1)
    night(site)
    before = snapshot(Warehouse.open(site["wh"]))
    first.rename(site["logs"] / "renamed.jsonl")
    (site["logs"] / "archive").mkdir()
    shutil.copy(site["logs"] / "renamed.jsonl", site["logs"] / "archive" / "copy.jsonl")
    rec = night(site).record
    assert (rec.files_seen, rec.files_ingested, rec.files_skipped, rec.events_read) == (2, 0, 2, 0)
    assert rec.audit_mode == "none"
    after = snapshot(Warehouse.open(site["wh"]))
    assert after["events"] == before["events"]
    # A file whose content changed is read again; the events already known count as duplicates.
    grown = site["logs"] / "renamed.jsonl"
    extra = write_day(site["logs"], 3, name="tmp.jsonl")
    grown.write_text(grown.read_text() + extra.read_text())
    extra.unlink()
    rec = night(site).record
    assert (rec.files_ingested, rec.files_skipped) == (1, 1)
    assert rec.events_duplicates == len(day_events(1)) and rec.events_accepted == len(day_events(3))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """Tables and reports of days 1 and 2 in two nights that nothing interrupts (shared: the same for every failure)."""
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    site = {"wh": tmp_path / "ref-wh", "logs": tmp_path / "ref-logs", "reports": tmp_path / "ref-reports",
            "ent": write_entitlements(tmp_path / "ref-config")}
    write_day(site["logs"], 1)
    night(site)
    write_day(site["logs"], 2)
    night(site)
    return snapshot(Warehouse.open(site["wh"])), reports_snapshot(site["reports"])


class Injected(AuditorError):
    """A failure these tests make happen."""


def _fail_after_ingest(monkeypatch: pytest.MonkeyPatch) -> None:
    def audit_stage(*args: object, **kwargs: object) -> None:
        raise Injected("after ingest")

    monkeypatch.setattr(nightly, "_audit_stage", audit_stage)


def _fail_mid_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    # the audit has written its files; its commit fails
    original = Transaction.commit

    def commit(tx: Transaction):  # noqa: ANN202
        if tx.tables.get("sessions") != tx.base.tables.get("sessions"):
            raise Injected("mid audit")
        return original(tx)

    monkeypatch.setattr(Transaction, "commit", commit)


def _fail_after_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    original = nightly._audit_stage

    def audit_stage(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)
        raise Injected("after audit")

    monkeypatch.setattr(nightly, "_audit_stage", audit_stage)


def _fail_mid_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # the first report of the night is written, the second fails
    original = batch.write_report
    calls = []

    def write_report(*args: object, **kwargs: object):  # noqa: ANN202
        calls.append(1)
        if len(calls) == 2:
            raise Injected("mid report")
        return original(*args, **kwargs)

    monkeypatch.setattr(batch, "write_report", write_report)


FAILURES = {"after-ingest": _fail_after_ingest, "mid-audit": _fail_mid_audit, "after-audit": _fail_after_audit,
            "mid-report": _fail_mid_report}


@pytest.mark.parametrize("point", FAILURES)
def test_a_failure_at_any_stage_is_finished_by_the_next_night(site, uninterrupted, monkeypatch, point) -> None:
    write_day(site["logs"], 1)
    night(site)
    write_day(site["logs"], 2)
    wh = Warehouse.open(site["wh"])
    with monkeypatch.context() as patch:
        FAILURES[point](patch)
        with pytest.raises(NightlyFailedError, match=point.replace("-", " ")):
            night(site)
    failed = read_runs(wh)[-1]
    assert (failed.status, failed.failed_stage) == ("failed", "report" if point == "mid-report" else "audit")
    state = wh.state()
    if point in ("after-audit", "mid-report"):
        # The audit committed, and with it the reports its results make stale.
        assert not state.pending_audit
        assert state.reports_owed.instances == {ACME, BOLT}
    else:
        # The new events are in; their audit is still owed, and no report is stale yet.
        assert sorted(state.pending_audit) == [ACME, BOLT]
        assert not state.reports_owed
        assert read_table(wh, "events").num_rows == len(day_events(1)) + len(day_events(2))
    # Nothing from the failed stage is half-visible: every file the manifest names exists.
    wh.connect().close()
    rec = night(site).record
    assert rec.status == "ok"
    # bolt's breach of the second day is new to the first run that finishes, wherever the other died
    assert rec.new_breaches == 1
    expected_tables, expected_reports = uninterrupted
    assert snapshot(wh) == expected_tables
    assert reports_snapshot(site["reports"]) == expected_reports
    assert not wh.state().pending_audit and not wh.state().reports_owed


def _end_reason(wh: Warehouse, session_id: str) -> str:
    sessions = read_table(wh, "sessions")
    return sessions.filter(pc.equal(sessions["session_id"], session_id))["end_reason"].to_pylist()[-1]


def test_reports_an_audit_changes_without_new_events_are_owed_in_its_own_commit(site, monkeypatch) -> None:
    write_day(site["logs"], 1)
    # bolt's last session is still open when the first night runs (its login is the latest event)
    late = {"ts": "2026-10-05T23:58:00Z", "instance": BOLT, "event": "login", "session_id": "b-late", "user": "owl"}
    (site["logs"] / "bolt-late.jsonl").write_text(json.dumps(late) + "\n", encoding="utf-8")
    night(site)
    wh = Warehouse.open(site["wh"])
    assert _end_reason(wh, "b-late") == "open"
    # The third day has events of acme only; they end bolt's session all the same.
    write_day(site["logs"], 3)
    with monkeypatch.context() as patch:
        _fail_after_audit(patch)
        with pytest.raises(NightlyFailedError, match="after audit"):
            night(site)
    assert _end_reason(wh, "b-late") == "idle_timeout"
    # Failed right after the audit committed: bolt's report is owed all the same.
    assert wh.state().reports_owed.instances == {ACME, BOLT}
    rec = night(site).record
    assert (rec.status, rec.audit_mode, rec.reports_rendered) == ("ok", "none", 2)
    assert not wh.state().reports_owed


def _hold_lock_forever(path: str, ready) -> None:  # pragma: no cover - runs in a child
    wh = Warehouse(Path(path))
    with wh.lock():
        ready.set()
        signal.pause()


def test_a_lock_left_by_a_killed_run_is_taken_over(site) -> None:
    Warehouse.open(site["wh"], create=True)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_hold_lock_forever, args=(str(site["wh"]), ready))
    child.start()
    assert ready.wait(60)
    os.kill(child.pid, signal.SIGKILL)
    child.join(60)
    # The dead run's mark is still in the lock file; the kernel released its lock.
    assert f"auditor pid {child.pid}" in (site["wh"] / LOCK_FILE).read_text()
    write_day(site["logs"], 1)
    result = night(site)
    assert result.record.status == "ok"
    assert result.took_over_from is not None and f"auditor pid {child.pid}" in result.took_over_from


def test_a_changed_entitlements_file_means_a_full_audit_and_the_same_one_does_not(site, tmp_path) -> None:
    write_day(site["logs"], 1)
    night(site)
    write_day(site["logs"], 2)
    assert night(site).record.audit_mode == "incremental"
    changed = write_entitlements(tmp_path / "new-config", ENTITLEMENTS_CHANGED)
    rec = night(site, entitlements=changed).record
    assert (rec.audit_mode, rec.files_ingested) == ("full", 0)
    # acme's limit is now 5: its breach is gone; nothing new appeared.
    wh = Warehouse.open(site["wh"])
    assert read_table(wh, "breaches")["instance"].to_pylist() == [BOLT]
    assert rec.new_breaches == 0
    assert night(site, entitlements=changed).record.audit_mode == "none"


def test_logs_must_be_a_directory(site) -> None:
    with pytest.raises(UsageError, match="--logs"):
        night(site)


def _age(path: Path, seconds: float = 3600) -> None:
    """Make PATH look written SECONDS ago (a file delivered some time before the night)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_file_already_ingested_and_unchanged_is_not_read_again(site) -> None:
    _age(write_day(site["logs"], 1))
    night(site)
    wh = Warehouse.open(site["wh"])
    logged = read_table(wh, "ingest_log").num_rows
    rec = night(site).record
    # Known by its identity on disk: not even handed to ingest, so no ingest run at all.
    assert (rec.files_seen, rec.files_skipped, rec.ingest_run_id) == (1, 1, None)
    assert read_table(wh, "ingest_log").num_rows == logged
    # Without the cache the file is hashed again, and still recognised by its content.
    (site["wh"] / nightly_files.CACHE_FILE).unlink()
    rec = night(site).record
    assert rec.ingest_run_id is not None and (rec.files_skipped, rec.events_read) == (1, 0)
    # A cache entry whose hash the warehouse does not hold is not trusted.
    cache = json.loads((site["wh"] / nightly_files.CACHE_FILE).read_text())
    cache["files"] = {key: "0" * 64 for key in cache["files"]}
    (site["wh"] / nightly_files.CACHE_FILE).write_text(json.dumps(cache))
    rec = night(site).record
    assert rec.ingest_run_id is not None and (rec.files_skipped, rec.events_read) == (1, 0)


def test_a_file_changed_in_place_to_the_same_size_is_read_again(site) -> None:
    path = write_day(site["logs"], 1)
    _age(path, 7200)
    night(site)
    text = path.read_text()
    changed = text.replace('"user3"', '"userX"', 1)
    assert len(changed) == len(text) and changed != text
    path.write_text(changed)
    _age(path, 3600)
    rec = night(site).record
    assert (rec.files_ingested, rec.events_read) == (1, len(day_events(1)))
    assert rec.events_accepted == 1 and rec.events_duplicates == len(day_events(1)) - 1


def test_a_file_written_just_now_is_not_remembered(site) -> None:
    write_day(site["logs"], 1)  # still being delivered, perhaps
    night(site)
    rec = night(site).record
    assert rec.ingest_run_id is not None and rec.files_skipped == 1


def _night_killed_when_the_audit_commits(wh_path: str, logs: str, entitlements: str) -> None:  # pragma: no cover - child
    """Run a night in this (child) process and SIGKILL it once the audit has written its files, before its commit."""
    import contextlib

    wh = Warehouse.open(wh_path)
    original = wh.transaction

    @contextlib.contextmanager
    def transaction():
        with original() as tx:
            yield tx
            if tx.tables.get("sessions") != tx.base.tables.get("sessions"):
                os.kill(os.getpid(), signal.SIGKILL)

    wh.transaction = transaction
    run_nightly(wh, Path(logs), entitlements=Path(entitlements))


def test_a_night_killed_mid_audit_is_finished_by_the_next(site, uninterrupted) -> None:
    write_day(site["logs"], 1)
    night(site)
    write_day(site["logs"], 2)
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_night_killed_when_the_audit_commits, args=(str(site["wh"]), str(site["logs"]), str(site["ent"])))
    child.start()
    child.join(300)
    assert child.exitcode == -signal.SIGKILL
    wh = Warehouse.open(site["wh"])
    # Killed: no failure row, the new events committed and still owed an audit, the lock file still naming the dead run.
    assert [r.status for r in read_runs(wh)] == ["ok"]
    assert sorted(wh.state().pending_audit) == [ACME, BOLT]
    assert f"auditor pid {child.pid}" in (site["wh"] / LOCK_FILE).read_text()
    result = night(site)
    assert result.record.status == "ok" and f"auditor pid {child.pid}" in (result.took_over_from or "")
    expected_tables, expected_reports = uninterrupted
    assert snapshot(wh) == expected_tables
    assert reports_snapshot(site["reports"]) == expected_reports


def test_a_new_look_alike_instance_re_renders_the_report_of_the_one_it_imitates(site) -> None:
    write_day(site["logs"], 1)
    night(site)
    spoof = "b\u043elt.my.erp.net"  # a Cyrillic о
    events = [{"ts": "2026-10-06T09:00:00Z", "instance": spoof, "event": "login", "session_id": "z"}]
    (site["logs"] / "spoof.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    result = night(site)
    assert result.record.instances_touched == [spoof]
    rendered = {p.relative_to(site["reports"]).parts[0] for p in result.report_paths if p.suffix == ".html"}
    # bolt had no new event and the audit left it as it was, yet its report now names the look-alike.
    assert BOLT in rendered
    bolt = (site["reports"] / BOLT / "2026-10.html").read_text(encoding="utf-8")
    assert f"Look-alike name: looks the same as instance {spoof} (Cyrillic \u043e U+043E)" in bolt


def test_the_first_night_under_a_new_folder_name_rule_renders_every_report(site) -> None:
    # Reports rendered by a version with another rule for folder names (before the overview
    # had its name reserved): the overview would link to folders no night has written.
    write_day(site["logs"], 1)
    night(site)
    wh = Warehouse.open(site["wh"])
    with wh.transaction() as tx:
        assert tx.state.reports_rendered is not None
        tx.state.reports_rendered = dataclasses.replace(tx.state.reports_rendered, file_names=0)
    write_day(site["logs"], 3)  # acme only
    rendered = {p.relative_to(site["reports"]).parts[0] for p in night(site).report_paths if p.suffix == ".html"}
    assert {ACME, BOLT} <= rendered


def test_a_night_after_an_engine_change_audits_everything_even_with_nothing_new(site) -> None:
    write_day(site["logs"], 1)
    night(site)
    wh = Warehouse.open(site["wh"])
    with wh.transaction() as tx:  # tables as an older version of the audit wrote them
        assert tx.state.audit is not None
        tx.state.audit = dataclasses.replace(tx.state.audit, engine=tx.state.audit.engine - 1)
    rec = night(site).record
    assert (rec.audit_mode, rec.files_ingested, rec.status) == ("full", 0, "ok")
    assert wh.state().audit.engine == ENGINE_VERSION
    assert night(site).record.audit_mode == "none"
