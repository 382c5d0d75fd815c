"""The nightly batch: ingest what is new, re-audit what it changes, re-render what that affects.

Each stage commits on its own, atomically, and records what a later stage owes
in the same commit as the data that makes it owed (auditor/state.py): ingest the
events with ``pending_audit``; the audit its results with the reports they make
stale (``reports_owed``) and the breaches they add (``breaches_unannounced``);
the run record clears those once the reports are rendered and the breaches
counted. A run killed anywhere leaves the work for the next run to finish.

The whole run holds the warehouse's write lock (re-entrant, so the stages' own
transactions take it again), and a second run on the same warehouse stops at
once. flock is released by the kernel when its holder dies, so a lock left by a
killed run is free; the run that takes it over says so.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from auditor import nightly_files
from auditor.audit import ENGINE_VERSION
from auditor.errors import AuditorError, InputFileError, UsageError
from auditor.files import new_run_id, sha256_file
from auditor.limits import InputBounds
from auditor.queries import run_query
from auditor.runlog import RunRecord, append_run
from auditor.state import PipelineState, ReportsOwed, ReportsRendered
from auditor.warehouse import Warehouse


class NightlyFailedError(AuditorError):
    """A stage of the nightly run failed; what it owes stays pending for the next run."""


@dataclass
class NightlyResult:
    record: RunRecord
    report_paths: list[Path] = field(default_factory=list)
    #: the lock left by a run that died, which this run took over (as the lock file named it)
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
    stale = warehouse.dead_lock_owner()
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
        result = NightlyResult(record, took_over_from=stale.text().strip() if stale else None)
        stage = "ingest"
        try:
            result.skipped = _ingest_stage(warehouse, logs, record, progress, bounds)
            stage = "audit"
            _audit_stage(warehouse, record, entitlements, plans, allow_empty_entitlements)
            stage = "report"
            rendered = None
            if reports is not None:
                result.report_paths, rendered = _report_stage(warehouse, Path(reports), record)
            stage = "record"
            with warehouse.transaction() as tx:
                # New breaches count in the first run that finishes: a run that died after its
                # audit committed leaves them to the next, which still exits 3 for them.
                record.new_breaches = len(tx.state.breaches_unannounced)
                record.new_findings = len(tx.state.findings_unannounced)
                _finish(record, clock)
                append_run(tx, record)
                tx.state.breaches_unannounced = frozenset()
                tx.state.findings_unannounced = frozenset()
                if rendered is not None:
                    tx.state.reports_owed = ReportsOwed()
                    tx.state.reports_rendered = rendered
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
    allow_empty_entitlements: bool = False,
) -> None:
    """Audit what is pending (everything when needed), owing the reports it makes stale in its commit."""
    from auditor.audit import reaudit_pending, run_audit

    state = warehouse.state()
    full = _full_audit_needed(state, entitlements, plans)
    if not state.pending_audit and not full:
        return
    touched = sorted(state.pending_audit)
    t = time.perf_counter()
    with warehouse.transaction() as tx:
        if full:
            record.audit_mode = "full"
            result = run_audit(warehouse, entitlements=entitlements, plans=plans,
                               allow_empty_entitlements=allow_empty_entitlements, tx=tx)
        else:
            record.audit_mode = "incremental"
            result = reaudit_pending(warehouse, tx=tx)
        # The audit may also change instances without new events (a session of theirs that
        # was open has now ended): their reports are owed in the same commit as the results.
        tx.state.reports_owed = tx.state.reports_owed.adding(result.instances, everything=full)
        tx.state.breaches_unannounced |= frozenset(result.new_breaches)
        tx.state.findings_unannounced |= frozenset(result.new_findings)
    record.audit_s = time.perf_counter() - t
    record.instances_touched = sorted(set(touched) | set(result.instances)) if full else touched


def _report_stage(warehouse: Warehouse, out_dir: Path, record: RunRecord) -> tuple[list[Path], ReportsRendered | None]:
    """Render what is owed; returns the paths written and what to remember as rendered (None: nothing)."""
    from auditor.names import skeleton
    from auditor.report import render_reports
    from auditor.report.filenames import OVERVIEW_FILE, RULE_VERSION

    state = warehouse.state()
    owed = state.reports_owed
    known, periods = _report_scope(warehouse)
    if not known:
        return [], None  # nothing audited yet, nothing to report on
    rendered = ReportsRendered(str(out_dir.absolute()), periods, RULE_VERSION)
    # Every report is owed when the folder is new to us, when the default period moved
    # (a month became complete: the unchanged instances need the new month too), or when
    # the rule for folder names changed (the overview must not link to missing reports).
    everything = owed.everything or state.reports_rendered != rendered or not (out_dir / OVERVIEW_FILE).is_file()
    instances = None
    if not everything:
        # An instance whose name looks like a changed one's gains or loses its look-alike note.
        changed = owed.instances & known
        looks = {skeleton(name) for name in changed}
        instances = sorted(changed | {name for name in known if skeleton(name) in looks})
    if instances == []:
        return [], rendered
    t = time.perf_counter()
    result = render_reports(warehouse, out_dir, instances=instances)
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
        first_ts, last_ts = run_query(con, "report/data_range").fetchone()
        audited = run_query(con, "report/instances")
        columns = [d[0] for d in audited.description]
        at_name, at_tz = columns.index("instance"), columns.index("timezone")
        zones = {(row[at_name], row[at_tz] or "UTC") for row in audited.fetchall()}
    finally:
        con.close()
    if first_ts is None or last_ts is None:
        return {name for name, _ in zones}, {}
    periods = {tz: last_full_month(local_day(first_ts, tz), local_day(last_ts, tz)).key for _, tz in zones}
    return {name for name, _ in zones}, dict(sorted(periods.items()))


def _full_audit_needed(state: PipelineState, entitlements: Path | None, plans: Path | None) -> bool:
    """Whether to audit everything: never audited yet (by this engine), or an input file differs from the one last audited with."""
    if state.audit is not None and state.audit.engine != ENGINE_VERSION:
        return True  # tables written by another version: its reports cannot be read
    if state.pending_audit and state.audit is None:
        return True  # never audited: reaudit_pending would audit everything; say so in the record
    used = state.audit_inputs
    for given, sha in ((entitlements, used.entitlements_sha256), (plans, used.plans_sha256)):
        if given is not None and sha256_file(given) != sha:
            return True
    return False


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
        f"{r.events_accepted:,} lines accepted ({r.events_duplicates:,} duplicates, {r.events_rejected:,} rejected)",
    ]
    if result.skipped:
        parts.append(f"{len(result.skipped)} path(s) could not be read, skipped (ingest_log.skipped)")
    if r.audit_mode == "none":
        parts.append("nothing to audit")
    else:
        parts.append(f"{r.audit_mode} audit of {len(r.instances_touched)} instance(s)")
    parts.append(f"{r.new_breaches} new breach(es)")
    if r.new_findings:
        parts.append(f"{r.new_findings} new finding(s)")
    if r.reports_dir is not None:
        parts.append(f"{r.reports_rendered} report(s) rendered")
    return f"nightly {r.run_id} {r.status} in {r.total_s:.1f} s: " + "; ".join(parts)
