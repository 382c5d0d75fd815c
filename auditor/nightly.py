"""The nightly batch: ingest what is new, re-audit what it changes, re-render what that affects.

Each stage commits on its own, atomically. What a later stage still owes is kept
in the manifest's meta and committed before that stage starts, so a run killed
anywhere leaves the work in the warehouse for the next run to finish:

- ``pending_audit`` (written by ingest with the events, cleared by the audit with
  its results): the instances and time spans whose audit is out of date;
- ``reports_pending`` (written here before the audit, cleared with the run record
  once the reports are rendered): the instances whose reports are out of date.

The whole run holds the warehouse's write lock (re-entrant, so the stages' own
transactions take it again), and a second run on the same warehouse stops at
once. flock is released by the kernel when its holder dies, so a lock left by a
killed run is free; the run that takes it over says so.

Test hook: ``AUDITOR_FAIL_AT`` = ``after-ingest`` | ``mid-audit`` | ``after-audit`` |
``mid-report`` makes the run fail at that point (after the ingest committed; inside
the audit, after it wrote its files and before it commits; right after the audit
committed; after the first report of the run was written) so that the tests can show
the next run finishing the work.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from auditor import nightly_files
from auditor.audit import ENGINE_VERSION
from auditor.errors import AuditorError, InputFileError, UsageError
from auditor.limits import InputBounds
from auditor.queries import run_query
from auditor.runlog import RunRecord, append_run, new_run_id
from auditor.warehouse import LOCK_FILE, Warehouse

FAIL_AT_ENV = "AUDITOR_FAIL_AT"
FAIL_POINTS = ("after-ingest", "mid-audit", "after-audit", "mid-report")

#: meta key of the instances whose reports are out of date: {"all": bool, "instances": [...]}
REPORTS_PENDING = "reports_pending"
#: meta key of the last completed render: {"dir": path, "periods": {time zone: period key}}
REPORTS_RENDERED = "reports_rendered"
#: meta key of the new breaches no successful run has counted yet: [[instance, breach_start], ...]
BREACHES_UNANNOUNCED = "breaches_unannounced"
#: meta key written by ingest, cleared by the audit: {instance: [min_ts, max_ts]}
PENDING_AUDIT = "pending_audit"


class NightlyFailedError(AuditorError):
    """A stage of the nightly run failed; what it owes stays pending for the next run."""


class InjectedFailure(AuditorError):
    """Raised by the ``AUDITOR_FAIL_AT`` test hook."""


@dataclass
class NightlyResult:
    record: RunRecord
    report_paths: list[Path] = field(default_factory=list)
    #: the holder named in a lock left by a run that died, which this run took over
    took_over_from: str | None = None
    #: paths under --logs that could not be read (each with why), logged in ingest_log
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def run_nightly(
    warehouse: Warehouse,
    logs: Path,
    *,
    entitlements: Path | None = None,
    plans: Path | None = None,
    reports: Path | None = None,
    progress: bool = False,
    bounds: InputBounds = InputBounds(),
    allow_empty_entitlements: bool = False,
) -> NightlyResult:
    """One night: ingest new files under LOGS, re-audit, re-render, record the run.

    BOUNDS: what ingest accepts of a line (see ``auditor.ingest.ingest``);
    ALLOW_EMPTY_ENTITLEMENTS: as for ``run_audit``.
    """
    logs = Path(logs)
    if not logs.is_dir():
        raise InputFileError(f"--logs {logs} is not a directory; name the folder the connection logs arrive in")
    fail_at = _fail_point()
    stale = _dead_lock_holder(warehouse)
    with warehouse.lock():
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        record = RunRecord(
            run_id=new_run_id(started),
            started_at=started,
            finished_at=started,
            status="ok",
            logs=str(logs.absolute()),
            reports_dir=str(Path(reports).absolute()) if reports is not None else None,
        )
        result = NightlyResult(record, took_over_from=stale)
        stage = "ingest"
        try:
            result.skipped = _ingest_stage(warehouse, logs, record, progress, bounds)
            stage = "audit"
            if fail_at == "after-ingest":
                raise InjectedFailure(f"{FAIL_AT_ENV}=after-ingest")
            _audit_stage(warehouse, record, entitlements, plans, fail_at, allow_empty_entitlements)
            stage = "report"
            rendered = None
            if reports is not None:
                result.report_paths, rendered = _report_stage(warehouse, Path(reports), record, fail_at == "mid-report")
            stage = "record"
            # New breaches count in the first run that finishes: a run that died after its
            # audit committed leaves them to the next, which still exits 3 for them.
            record.new_breaches = len(warehouse.meta().get(BREACHES_UNANNOUNCED) or [])
            _finish(record, clock)
            with warehouse.transaction() as tx:
                append_run(tx, record)
                tx.meta.pop(BREACHES_UNANNOUNCED, None)
                if rendered is not None:
                    tx.meta.pop(REPORTS_PENDING, None)
                    tx.meta[REPORTS_RENDERED] = rendered
        except Exception as exc:
            record.status, record.failed_stage, record.error = "failed", stage, _one_line(exc)
            _finish(record, clock)
            if stage != "record":
                # Best effort: the run's failure is worth a row, but never worth hiding its cause.
                with contextlib.suppress(Exception), warehouse.transaction() as tx:
                    append_run(tx, record)
            if isinstance(exc, UsageError):
                raise
            raise NightlyFailedError(
                f"nightly run {record.run_id} failed in the {stage} stage: {record.error}; "
                "what it did not finish is kept and the next run completes it"
            ) from exc
    return result


# -- the stages ---------------------------------------------------------------


def _ingest_stage(
    warehouse: Warehouse, logs: Path, record: RunRecord, progress: bool, bounds: InputBounds
) -> list[tuple[Path, str]]:
    """Hand ingest the files under LOGS that it may not know; count the rest as skipped.

    Returns the paths that could not be read, with why (ingest logs them too)."""
    from auditor.ingest import ingest_sources, known_file_hashes
    from auditor.ingest.sources import Sources, find_sources

    t = time.perf_counter()
    found = find_sources([logs])
    sources = found.files
    # Identities are taken before ingest reads a file: one that changes meanwhile
    # then no longer matches its entry, and is read again the next night.
    identities = {s.path: nightly_files.identity(s.path) for s in sources}
    remembered = nightly_files.load(warehouse)
    held = known_file_hashes(warehouse) if remembered else set()
    cache = {key: sha for key in identities.values() if key and (sha := remembered.get(key)) in held}
    unread = [s for s in sources if identities[s.path] not in cache]
    record.files_seen = len(sources)
    record.files_skipped = len(sources) - len(unread)
    skipped: list[tuple[Path, str]] = []
    if unread or found.skipped:
        # a path that cannot be read is logged every night until someone fixes it
        outcome = ingest_sources(
            warehouse, Sources(unread, skipped=found.skipped), skip_known_files=True, progress=progress,
            bounds=bounds,
        )
        record.ingest_run_id = outcome.run_id
        record.files_skipped += sum(1 for f in outcome.files if f.skipped_known)
        record.events_read, record.events_accepted = outcome.read, outcome.accepted
        record.events_duplicates, record.events_rejected = outcome.duplicates, outcome.rejected
        cache.update((key, f.sha256) for f in outcome.files if f.sha256 and (key := identities.get(f.path)))
        skipped = [(f.path, f.skipped) for f in outcome.files if f.skipped is not None]
    # a file gone or changed into something unreadable since the walk was not ingested either
    vanished = sum(1 for path, _ in skipped if path in identities)
    record.files_ingested = record.files_seen - record.files_skipped - vanished
    if cache != remembered:
        nightly_files.save(warehouse, cache)
    record.ingest_s = time.perf_counter() - t
    return skipped


def _audit_stage(
    warehouse: Warehouse,
    record: RunRecord,
    entitlements: Path | None,
    plans: Path | None,
    fail: str | None,
    allow_empty_entitlements: bool = False,
) -> None:
    from auditor import audit

    pending = dict(warehouse.meta().get(PENDING_AUDIT) or {})
    full = _full_audit_needed(warehouse, entitlements, plans, bool(pending))
    if not pending and not full:
        return
    touched = sorted(pending)
    # The reports these changes make stale are owed from now on, whatever happens next.
    _owe_reports(warehouse, touched, everything=full)

    def owe_changed(meta: dict[str, Any], changed: audit.AuditResult) -> None:
        # The audit may also change instances without new events (a session of theirs
        # that was `open` has now ended): their reports are owed in the same commit as
        # the results, so no crash can leave those reports stale.
        meta[REPORTS_PENDING] = _owed_with(meta, changed.instances, everything=full)
        unannounced = {tuple(b) for b in meta.get(BREACHES_UNANNOUNCED) or []}
        unannounced |= {(name, start.isoformat()) for name, start in changed.new_breaches}
        meta[BREACHES_UNANNOUNCED] = [list(b) for b in sorted(unannounced)]

    t = time.perf_counter()
    with _commit_fails(warehouse) if fail == "mid-audit" else contextlib.nullcontext():
        if full:
            record.audit_mode = "full"
            result = audit.run_audit(warehouse, entitlements=entitlements, plans=plans, on_commit=owe_changed,
                                     allow_empty_entitlements=allow_empty_entitlements)
        else:
            record.audit_mode = "incremental"
            result = audit.reaudit_pending(warehouse, on_commit=owe_changed)
    record.audit_s = time.perf_counter() - t
    if fail == "after-audit":
        raise InjectedFailure(f"{FAIL_AT_ENV}=after-audit")
    record.instances_touched = sorted(set(touched) | set(result.instances)) if full else touched


def _report_stage(
    warehouse: Warehouse, out_dir: Path, record: RunRecord, fail: bool
) -> tuple[list[Path], dict[str, Any] | None]:
    """Render what is owed; returns the paths written and what to remember as rendered (None: nothing)."""
    from auditor.names import skeleton
    from auditor.report import render_reports
    from auditor.report.filenames import OVERVIEW_FILE, RULE_VERSION

    meta = warehouse.meta()
    owed = meta.get(REPORTS_PENDING) or {"all": False, "instances": []}
    last = meta.get(REPORTS_RENDERED) or {}
    known, periods = _report_scope(warehouse)
    if not known:
        return [], None  # nothing audited yet, nothing to report on
    rendered = {"dir": str(out_dir.absolute()), "periods": periods, "file_names": RULE_VERSION}
    # Every report is owed when the folder is new to us, when the default period moved
    # (a month became complete: the unchanged instances need the new month too), or when
    # the rule for folder names changed (the overview must not link to missing reports).
    everything = bool(owed["all"]) or last != rendered or not (out_dir / OVERVIEW_FILE).is_file()
    instances = None
    if not everything:
        # An instance whose name looks like a changed one's gains or loses its look-alike note.
        changed = set(owed["instances"]) & known
        looks = {skeleton(name) for name in changed}
        instances = sorted(changed | {name for name in known if skeleton(name) in looks})
    if instances == []:
        return [], rendered
    calls = 0

    def progress(_message: str) -> None:
        # Called for each report and before the overview: by the second call at
        # least the first report has been written.
        nonlocal calls
        calls += 1
        if fail and calls == 2:
            raise InjectedFailure(f"{FAIL_AT_ENV}=mid-report")

    t = time.perf_counter()
    result = render_reports(warehouse, out_dir, instances=instances, progress=progress)
    record.report_s = time.perf_counter() - t
    record.reports_rendered = len(result.reports)
    return result.paths(), rendered


def _report_scope(warehouse: Warehouse) -> tuple[set[str], dict[str, str]]:
    """The audited instances, and the default report period of each of their time zones.

    The default period (the last full month in the data, in local days) is the
    same for every instance of a time zone.
    """
    from auditor.report.period import last_full_month, local_day

    con = warehouse.connect()
    try:
        first_ts, last_ts = run_query(con, "report_data_range").fetchone()
        audited = run_query(con, "report_instances")
        columns = [d[0] for d in audited.description]
        at_name, at_tz = columns.index("instance"), columns.index("timezone")
        zones = {(row[at_name], row[at_tz] or "UTC") for row in audited.fetchall()}
    finally:
        con.close()
    if first_ts is None or last_ts is None:
        return {name for name, _ in zones}, {}
    periods = {tz: last_full_month(local_day(first_ts, tz), local_day(last_ts, tz)).key for _, tz in zones}
    return {name for name, _ in zones}, dict(sorted(periods.items()))


# -- what the stages owe each other ---------------------------------------------


def _owe_reports(warehouse: Warehouse, instances: Sequence[str], *, everything: bool) -> None:
    meta = warehouse.meta()
    merged = _owed_with(meta, instances, everything=everything)
    if merged == meta.get(REPORTS_PENDING):
        return
    with warehouse.transaction() as tx:
        tx.meta[REPORTS_PENDING] = merged


def _owed_with(meta: dict[str, Any], instances: Sequence[str], *, everything: bool) -> dict[str, Any]:
    """META's owed reports with INSTANCES (or EVERYTHING) added."""
    owed = meta.get(REPORTS_PENDING) or {"all": False, "instances": []}
    return {"all": bool(owed["all"] or everything), "instances": sorted(set(owed["instances"]) | set(instances))}


def _full_audit_needed(warehouse: Warehouse, entitlements: Path | None, plans: Path | None, pending: bool) -> bool:
    """Whether to audit everything: never audited yet (by this engine), or an input file differs from the one last audited with.

    The audit keeps the SHA-256 of the files it used in ``meta["audit_inputs"]``.
    """
    meta = warehouse.meta()
    if pending and (meta.get("audit") or {}).get("engine") != ENGINE_VERSION:
        return True  # never audited, or by another version: reaudit_pending would audit everything
    used = meta.get("audit_inputs") or {}
    for given, key in ((entitlements, "entitlements_sha256"), (plans, "plans_sha256")):
        if given is not None and _sha256(given) != used.get(key):
            return True
    return False


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# -- the test hook ---------------------------------------------------------------


def _fail_point() -> str | None:
    value = os.environ.get(FAIL_AT_ENV) or None
    if value is not None and value not in FAIL_POINTS:
        raise UsageError(f"{FAIL_AT_ENV}={value} is not one of {', '.join(FAIL_POINTS)}; unset it for a real run")
    return value


@contextlib.contextmanager
def _commit_fails(warehouse: Warehouse) -> Iterator[None]:
    """Make WAREHOUSE's next transaction fail where it would commit: after its files are written."""
    original: Callable[[], Any] = warehouse.transaction

    @contextlib.contextmanager
    def failing() -> Iterator[Any]:
        with original() as tx:
            yield tx
            raise InjectedFailure(f"{FAIL_AT_ENV}=mid-audit")

    warehouse.transaction = failing  # type: ignore[method-assign]
    try:
        yield
    finally:
        del warehouse.transaction


# -- small helpers ---------------------------------------------------------------


def _dead_lock_holder(warehouse: Warehouse) -> str | None:
    """The holder a lock file names when that process is gone (its run was killed)."""
    try:
        text = (warehouse.root / LOCK_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    match = re.match(r"auditor pid (\d+)", text)
    if not match or _alive(int(match.group(1))):
        return None
    return text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _finish(record: RunRecord, clock: float) -> None:
    record.finished_at = datetime.now(timezone.utc)
    record.total_s = time.perf_counter() - clock


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def summary_line(result: NightlyResult) -> str:
    """The one line a scheduler's log keeps for the run."""
    r = result.record
    parts = [
        f"{r.files_ingested} new file(s) read ({r.files_skipped} already known)",
        f"{r.events_accepted:,} events accepted ({r.events_duplicates:,} duplicates, {r.events_rejected:,} rejected)",
    ]
    if result.skipped:
        parts.append(f"{len(result.skipped)} path(s) could not be read, skipped (ingest_log.skipped)")
    if r.audit_mode == "none":
        parts.append("nothing to audit")
    else:
        parts.append(f"{r.audit_mode} audit of {len(r.instances_touched)} instance(s)")
    parts.append(f"{r.new_breaches} new breach(es)")
    if r.reports_dir is not None:
        parts.append(f"{r.reports_rendered} report(s) rendered")
    return f"nightly {r.run_id} {r.status} in {r.total_s:.1f} s: " + "; ".join(parts)
