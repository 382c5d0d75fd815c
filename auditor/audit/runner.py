"""The one audit runner: a full audit is the incremental audit with nothing kept.

Both read the warehouse's history through the same ``h_*`` views and restart
points (auditor/audit/restart.py), run the same statements (engine.py) and replace
the output partitions the same way (outputs.py). A full audit reads every event
and no stored result, has no restart point, and replaces each table whole; an
incremental one restarts each instance with new events at its restart point and
rewrites only the partitions that change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from auditor.audit import engine, restart
from auditor.audit.outputs import Cuts, replace_outputs
from auditor.entitlements import Entitlement, from_arrow, load_entitlements, resolve, to_arrow
from auditor.errors import UsageError
from auditor.limits import check_date
from auditor.plans import load_plans
from auditor.policy import DEFAULT_POLICY, Policy
from auditor.queries import run_query
from auditor.state import AuditInputs, AuditRecord, AuditSettings
from auditor.tables import ENTITLEMENTS, SESSIONS
from auditor.warehouse import Transaction, Warehouse, read_table, register_files

#: The layout and rules of the tables the audit writes. Stored with each audit; an incremental
#: audit of tables written by another version audits everything again instead.
ENGINE_VERSION = 6
COUNTED_TABLES = ("sessions", "usage_steps", "breaches", "daily_usage", "instance_summary")


@dataclass(frozen=True)
class Breach:
    instance: str
    breach_start: datetime
    breach_end: datetime
    peak_seats: int
    seat_limit: int


@dataclass
class AuditResult:
    """Counts of the rows this run computed, the instances whose rows it changed, the breaches it found."""

    counts: dict[str, int] = field(default_factory=dict)
    instances: list[str] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    #: (instance, breach_start) of the breaches the warehouse did not hold before this run
    new_breaches: list[tuple[str, datetime]] = field(default_factory=list)
    #: (instance, kind, day, session_id, user or '') of the findings the warehouse did not hold before this run
    new_findings: list[tuple[str, str, date, str, str]] = field(default_factory=list)
    incremental: bool = False


def run_audit(
    warehouse: Warehouse,
    *,
    entitlements: Path | None = None,
    allow_empty_entitlements: bool = False,
    plans: Path | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    tolerance: timedelta = timedelta(0),
    policy: Policy = DEFAULT_POLICY,
    tx: Transaction | None = None,
) -> AuditResult:
    """Audit all the warehouse's events and replace the audit's tables.

    ENTITLEMENTS (a CSV; kept in the warehouse) and PLANS (a TOML catalogue) replace
    the stored ones; a file with a header and no rows is refused unless
    ALLOW_EMPTY_ENTITLEMENTS. The period [PERIOD_FROM, PERIOD_TO) and TOLERANCE are
    instance_summary's. TX: the caller's transaction, committed by the caller
    (nightly commits its own records with the results); else one of its own.
    """
    for value, what in ((period_from, "--from"), (period_to, "--to")):
        if value is not None:
            check_date(value, what)
    if period_from is not None and period_to is not None and period_to <= period_from:
        raise UsageError(f"--to {period_to} is not after --from {period_from}; the period is [from, to)")
    if tolerance < timedelta(0):
        raise UsageError("--tolerance must not be negative")
    with _transaction(warehouse, tx) as tx:
        catalogue = load_plans(plans)
        inputs = tx.state.audit_inputs
        store = False
        if entitlements is not None:
            rows, sha = load_entitlements(entitlements, catalogue, allow_empty=allow_empty_entitlements)
            inputs = AuditInputs(sha, inputs.plans_sha256, inputs.plans_toml)
            store = True
        else:
            rows = stored_entitlements(tx)
            if plans is not None:
                rows = resolve(rows, catalogue, "the entitlements stored in the warehouse (line numbers of the file loaded)")
                store = True
        if plans is not None or inputs.plans_sha256 is None:
            # Reports rendered later (by nightly or demo, without --plans) need the prices.
            inputs = AuditInputs(inputs.entitlements_sha256, catalogue.sha256, catalogue.text)
        if store:
            tx.clear("entitlements")
            tx.write("entitlements", ENTITLEMENTS.partitioning.key(), to_arrow(rows))
        tx.state.audit_inputs = inputs
        settings = AuditSettings(period_from, period_to, tolerance)
        return _audit(tx, rows, settings, policy, incremental=False)


def reaudit_pending(warehouse: Warehouse, *, policy: Policy | None = None, tx: Transaction | None = None) -> AuditResult:
    """Bring the audit's tables up to date with what ingest added (``pending_audit``).

    Re-reads only the recent data of the instances with new events
    (auditor/audit/restart.py) and gives tables equal to a full ``run_audit`` of all
    the data, with the settings and policy of the last audit (POLICY, if given and
    different, means auditing everything again). Nothing pending: nothing to do. A
    warehouse never audited, or audited by another ENGINE_VERSION, gets a full
    audit. A run that fails leaves ``pending_audit`` in place for the next one.
    """
    with _transaction(warehouse, tx) as tx:
        state = tx.state
        if not state.pending_audit:
            return AuditResult()
        last = state.audit
        if last is None or last.engine != ENGINE_VERSION or (policy is not None and policy != last.policy):
            settings = last.settings if last is not None else AuditSettings()
            return run_audit(warehouse, period_from=settings.period_from, period_to=settings.period_to,
                             tolerance=settings.tolerance, policy=policy or DEFAULT_POLICY, tx=tx)
        return _audit(tx, stored_entitlements(tx), last.settings, last.policy, incremental=True)


def stored_entitlements(tx: Transaction) -> list[Entitlement]:
    """The entitlements an earlier audit loaded (as the transaction found them)."""
    files = tx.snapshot.files("entitlements")
    if not files:
        return []
    table = read_table(tx.warehouse, "entitlements", tx.snapshot.partitions("entitlements"))
    return from_arrow(table.sort_by([("instance", "ascending"), ("valid_from_ts", "ascending")]))


@contextlib.contextmanager
def _transaction(warehouse: Warehouse, tx: Transaction | None) -> Iterator[Transaction]:
    if tx is not None:
        yield tx
        return
    with warehouse.transaction() as own:
        yield own


def _audit(tx: Transaction, rows: list[Entitlement], settings: AuditSettings, policy: Policy, *,
           incremental: bool) -> AuditResult:
    """Run the engine from the restart points (none: nothing kept) and replace the outputs in TX."""
    snapshot = tx.snapshot
    last = tx.state.audit
    scratch = tx.warehouse.scratch_dir()
    with engine.connection(scratch, rows, policy) as con:
        cuts: Cuts | None = None
        if incremental:
            assert last is not None
            cuts = restart.register_history(con, snapshot, tx.state.pending_audit, last)
        else:
            restart.register_nothing_kept(con, snapshot, policy)
            run_query(con, "audit/events_in")
            engine.run_sessions(con, policy)
        before = last.max_ts if incremental and last is not None else None
        (max_ts,) = run_query(con, "audit/max_ts", {"before": before}).fetchone()
        max_ts = max_ts or datetime(1970, 1, 1, tzinfo=timezone.utc)
        engine.run_rest(con, policy, max_ts)
        engine.run_summary(con, settings.period_from, settings.period_to, settings.tolerance)
        replaced = replace_outputs(con, tx, scratch, cuts)
        result = _result(con, replaced["breaches"], replaced["findings"])
        result.incremental = incremental
        max_segment_us, open_dates = run_query(con, "audit/run_facts").fetchone()
    tx.state.pending_audit.clear()
    tx.state.audit = AuditRecord(
        settings=settings,
        policy=policy,
        engine=ENGINE_VERSION,
        max_ts=max_ts,
        max_segment_us=max(int(max_segment_us or 0), last.max_segment_us if incremental and last else 0),
        open_partitions=tuple(SESSIONS.partitioning.key(d) for d in open_dates or ()),
        finished_at=datetime.now(timezone.utc),
    )
    return result


def _result(con: duckdb.DuckDBPyConnection, replaced_breaches: list[Path], replaced_findings: list[Path]) -> AuditResult:
    result = AuditResult()
    row = run_query(con, "audit/counts").fetchone()
    result.counts = {name: int(value) for name, value in zip(COUNTED_TABLES, row)}
    result.instances = [name for (name,) in run_query(con, "audit/changed_instances").fetchall()]
    result.breaches = [Breach(*r) for r in run_query(con, "audit/breach_list").fetchall()]
    register_files(con, "breaches", "h_replaced_breaches", replaced_breaches)
    result.new_breaches = [tuple(r) for r in run_query(con, "audit/new_breaches").fetchall()]
    register_files(con, "findings", "h_replaced_findings", replaced_findings)
    result.new_findings = [tuple(r) for r in run_query(con, "audit/new_findings").fetchall()]
    return result
