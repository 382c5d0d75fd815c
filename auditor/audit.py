"""The audit: sessions, exact concurrency and compliance, from the warehouse's events.

``run_audit`` loads the plan catalogue and the entitlements, runs the engine's SQL
(``queries/audit_*.sql``, in the order of ``ENGINE_STEPS``) in one DuckDB
connection, and replaces the audit's tables in one warehouse transaction: a
re-run replaces the results, a failed run leaves the previous ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from auditor.entitlements import Entitlement, from_arrow, load_entitlements, resolve, to_arrow
from auditor.errors import UsageError
from auditor.plans import load_plans
from auditor.policy import DEFAULT_POLICY, Policy
from auditor.queries import load_query, run_query
from auditor.schema import ENTITLEMENTS
from auditor.warehouse import Transaction, Warehouse

#: The engine's statements before the expiry chain, in order.
SEGMENT_STEPS = (
    "audit_instances",
    "audit_entitlements",
    "audit_restarts",
    "audit_session_attributes",
    "audit_activity",
    "audit_expiry_points",
)
#: The statements after it.
USAGE_STEPS = (
    "audit_chain_starts",
    "audit_segments",
    "audit_usage_steps",
    "audit_breaches",
    "audit_denials",
    "audit_days",
    "audit_daily_usage",
    "audit_instance_summary",
)
#: Output table -> (writing statement, partition folder prefix DuckDB writes, partition key prefix).
OUTPUTS = {
    "sessions": ("audit_write_sessions", "date=", "date="),
    "usage_steps": ("audit_write_usage_steps", "date=", "date="),
    "breaches": ("audit_write_breaches", "date=", "date="),
    "daily_usage": ("audit_write_daily_usage", "part=", "day="),
}
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
    counts: dict[str, int] = field(default_factory=dict)
    instances: list[str] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)


def run_audit(
    warehouse: Warehouse,
    *,
    entitlements: Path | None = None,
    plans: Path | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    tolerance: timedelta = timedelta(0),
    policy: Policy = DEFAULT_POLICY,
) -> AuditResult:
    """Audit all the warehouse's events and replace the audit's tables."""
    if period_from is not None and period_to is not None and period_to <= period_from:
        raise UsageError(f"--to {period_to} is not after --from {period_from}; the period is [from, to)")
    if tolerance < timedelta(0):
        raise UsageError("--tolerance must not be negative")
    with warehouse.lock():
        catalogue = load_plans(plans)
        meta_inputs: dict[str, Any] = dict(warehouse.meta().get("audit_inputs") or {})
        store_entitlements = False
        if entitlements is not None:
            rows, sha = load_entitlements(entitlements, catalogue)
            meta_inputs["entitlements_sha256"] = sha
            store_entitlements = True
        else:
            rows = _stored_entitlements(warehouse)
            if plans is not None:
                rows = resolve(rows, catalogue, "the entitlements stored in the warehouse (line numbers of the file loaded)")
                store_entitlements = True
        if plans is not None or "plans_sha256" not in meta_inputs:
            meta_inputs["plans_sha256"] = catalogue.sha256
        with warehouse.transaction() as tx:
            con = warehouse.connect()
            try:
                scratch = warehouse.scratch_dir()
                _configure(con, scratch)
                compute(con, rows, policy, period_from, period_to, tolerance)
                if store_entitlements:
                    tx.clear("entitlements")
                    tx.write("entitlements", "all", to_arrow(rows))
                result = write_outputs(con, tx, scratch)
            finally:
                con.close()
            tx.meta.pop("pending_audit", None)
            tx.meta["audit_inputs"] = meta_inputs
            tx.meta["audit"] = {
                "period_from": period_from.isoformat() if period_from else None,
                "period_to": period_to.isoformat() if period_to else None,
                "tolerance_s": tolerance.total_seconds(),
                "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            }
        return result


def reaudit_pending(warehouse: Warehouse, *, policy: Policy = DEFAULT_POLICY) -> AuditResult:
    """Bring the audit's tables up to date with what ingest recorded in ``meta["pending_audit"]``.

    The tables must equal those of a full ``run_audit`` of all the data. This
    version gets there by re-auditing everything (with the period and tolerance
    of the last audit) whenever something is pending; nothing pending, nothing to
    do. A run that fails leaves ``pending_audit`` in place for the next one.
    """
    with warehouse.lock():
        meta = warehouse.meta()
        if not meta.get("pending_audit"):
            return AuditResult()
        last = meta.get("audit") or {}
        return run_audit(
            warehouse,
            period_from=date.fromisoformat(last["period_from"]) if last.get("period_from") else None,
            period_to=date.fromisoformat(last["period_to"]) if last.get("period_to") else None,
            tolerance=timedelta(seconds=float(last.get("tolerance_s") or 0)),
            policy=policy,
        )


def _stored_entitlements(warehouse: Warehouse) -> list[Entitlement]:
    files = warehouse.files("entitlements")
    if not files:
        return []
    con = warehouse.connect()
    try:
        table = con.sql(load_query("audit_stored_entitlements")).to_arrow_table()
    finally:
        con.close()
    return from_arrow(table.cast(ENTITLEMENTS))


def _configure(con: duckdb.DuckDBPyConnection, scratch: Path) -> None:
    # Temp tables of a large audit may not fit in memory: let DuckDB spill next to
    # the warehouse (the scratch folder is emptied by the next writer).
    con.execute("SET temp_directory = $dir", {"dir": str(scratch / "spill")})
    limit = os.environ.get("AUDITOR_MEMORY_LIMIT")
    if limit:
        con.execute("SET memory_limit = $limit", {"limit": limit})
    con.execute("SET preserve_insertion_order = false")


def compute(
    con: duckdb.DuckDBPyConnection,
    rows: list[Entitlement],
    policy: Policy,
    period_from: date | None,
    period_to: date | None,
    tolerance: timedelta,
) -> None:
    """Run the engine's statements; leaves the a_* temp tables in CON."""
    con.register("a_entitlements_in", to_arrow(rows))
    expiry = pa.table(
        {
            "auth_flow": pa.array(list(policy.absolute_expiry), pa.string()),
            "expiry_us": pa.array([_us(v) for v in policy.absolute_expiry.values()], pa.int64()),
        }
    )
    con.register("a_policy_expiry", expiry)
    params = {
        "audit_activity": {"idle_us": _us(policy.idle_timeout)},
        "audit_segments": {"idle_us": _us(policy.idle_timeout), "uncounted": sorted(policy.uncounted_user_types)},
        "audit_instance_summary": {
            "period_from": period_from,
            "period_to": period_to,
            "tolerance_us": _us(tolerance),
        },
    }
    for name in SEGMENT_STEPS:
        run_query(con, name, params.get(name))
    con.register("a_chain_marks", pa.table({"n": pa.array(_follow_expiry_chains(con), pa.int64())}))
    for name in USAGE_STEPS:
        run_query(con, name, params.get(name))


def _follow_expiry_chains(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """The instants at which the absolute expiry opens segments, by pointer chasing.

    Each island's first instant opens a segment; the next one opens at the first
    instant at or after (its start + expiry), and so on. The chase is sequential
    per island but all islands step together, so the loop runs as many times as
    the longest island has segments.
    """
    got = run_query(con, "audit_expiry_pointers").fetchnumpy()
    nxt = np.asarray(got["next_n"], dtype=np.int64)
    first = np.asarray(got["first_in_island"], dtype=bool)
    marked = np.zeros(len(nxt), dtype=bool)
    frontier = np.flatnonzero(first)
    while frontier.size:
        marked[frontier] = True
        frontier = nxt[frontier]
        frontier = frontier[frontier >= 0]
    return np.flatnonzero(marked)


def _us(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def write_outputs(con: duckdb.DuckDBPyConnection, tx: Transaction, scratch: Path) -> AuditResult:
    """Replace the audit's tables in TX with the a_* temp tables of CON."""
    result = AuditResult()
    for table, (query, folder_prefix, key_prefix) in OUTPUTS.items():
        out_dir = scratch / table
        run_query(con, query, {"dir": str(out_dir)})
        tx.clear(table)
        for folder in sorted(out_dir.iterdir()) if out_dir.exists() else []:
            key = key_prefix + folder.name.removeprefix(folder_prefix)
            files = sorted(folder.glob("*.parquet"))
            if len(files) != 1:
                # DuckDB splits a partition only when it is huge; merge to keep one file each.
                target = tx.new_file(table, key)
                run_query(con, "audit_merge_parquet", {"files": [str(f) for f in files], "path": str(target)})
            else:
                target = tx.new_file(table, key)
                os.replace(files[0], target)
            tx.put(table, key, target)
    summary = tx.new_file("instance_summary", "all")
    run_query(con, "audit_write_instance_summary", {"path": str(summary)})
    tx.clear("instance_summary")
    tx.put("instance_summary", "all", summary)
    row = run_query(con, "audit_counts").fetchone()
    result.counts = {name: int(value) for name, value in zip(COUNTED_TABLES, row[:-1])}
    result.instances = list(row[-1] or [])
    result.breaches = [Breach(*r) for r in run_query(con, "audit_breach_list").fetchall()]
    return result
