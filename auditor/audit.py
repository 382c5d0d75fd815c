"""The audit: sessions, exact concurrency and compliance, from the warehouse's events.

``run_audit`` loads the plan catalogue and the entitlements, runs the engine's SQL
(``queries/audit_*.sql``, in the order of ``ENGINE_STEPS``) in one DuckDB
connection, and replaces the audit's tables in one warehouse transaction: a
re-run replaces the results, a failed run leaves the previous ones.

``reaudit_pending`` does the same for what ingest recorded as new
(``meta["pending_audit"]``), re-reading only recent data: for each instance it
finds a restart point Q - a local midnight before the new events that no stored
segment spans and before which no session's attributes change - recomputes
everything from Q on with the same statements, and splices the result into the
partitions it touches. The tables equal those of a full audit of all the data.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.entitlements import Entitlement, from_arrow, load_entitlements, resolve, to_arrow
from auditor.errors import UsageError
from auditor.limits import check_date
from auditor.plans import load_plans
from auditor.policy import DEFAULT_POLICY, Policy
from auditor.queries import load_query, run_query
from auditor.schema import ENTITLEMENTS, TABLES
from auditor.warehouse import Transaction, Warehouse

#: The engine's statements before the expiry chain (after the inputs are defined).
SEGMENT_STEPS = ("audit_instances", "audit_entitlements", "audit_restarts", "audit_session_attributes",
                 "audit_activity", "audit_expiry_points")
#: The statements after it: segments and the sweep.
SWEEP_STEPS = ("audit_chain_starts", "audit_segments", "audit_usage_steps", "audit_breaches")
#: Then (once the days' inputs are defined) the per-day tables and the output views.
DAY_STEPS = (
    "audit_denials", "audit_days", "audit_piece_days", "audit_daily_usage", "audit_daily_levels",
    "audit_out_sessions", "audit_out_usage_steps", "audit_out_breaches", "audit_out_daily_usage",
    "audit_out_daily_levels", "audit_out_session_state",
)
#: A full audit's days come from its own rows only.
FULL_DAY_INPUTS = ("audit_day_inputs_all", "audit_day_steps_all", "audit_day_breaches_all", "audit_denial_events_all")
SUMMARY_STEPS = ("audit_instance_summary", "audit_out_instance_summary")
#: Output tables and the prefix of their partition keys (DuckDB writes part=VALUE folders).
OUTPUTS = {
    "sessions": "date=",
    "usage_steps": "date=",
    "breaches": "date=",
    "daily_usage": "day=",
    "daily_levels": "day=",
    "session_state": "date=",
    "instance_summary": "",
}
DEFAULT_MEMORY_LIMIT = "3000MB"
#: The widest window an incremental audit reads back for covering segments (a century: wider
#: than any history, short of the calendar's end).
MAX_LOOKBACK = timedelta(days=36_500)
#: Names another limit for DuckDB's memory in the audit (beyond it DuckDB spills to disk).
MEMORY_LIMIT_ENV = "AUDITOR_MEMORY_LIMIT"
#: The layout and rules of the tables the audit writes. Stored with each audit; an incremental
#: audit of tables written by another version audits everything again instead.
ENGINE_VERSION = 2
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
    incremental: bool = False


#: Called with the manifest's meta and the result, inside the audit's own commit.
OnCommit = Callable[[dict[str, Any], AuditResult], None]


def run_audit(
    warehouse: Warehouse,
    *,
    entitlements: Path | None = None,
    plans: Path | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    tolerance: timedelta = timedelta(0),
    policy: Policy = DEFAULT_POLICY,
    on_commit: OnCommit | None = None,
    allow_empty_entitlements: bool = False,
) -> AuditResult:
    """Audit all the warehouse's events and replace the audit's tables.

    ON_COMMIT, if given, may add to the manifest's meta in the audit's own commit
    (nightly records there which reports the result makes stale).
    ALLOW_EMPTY_ENTITLEMENTS accepts an entitlements file without rows (every
    instance is then unlicensed); without it such a file is a usage error.
    """
    if period_from is not None:
        check_date(period_from, "--from")
    if period_to is not None:
        check_date(period_to, "--to")
    if period_from is not None and period_to is not None and period_to <= period_from:
        raise UsageError(f"--to {period_to} is not after --from {period_from}; the period is [from, to)")
    if tolerance < timedelta(0):
        raise UsageError("--tolerance must not be negative")
    with warehouse.lock():
        catalogue = load_plans(plans)
        meta_inputs: dict[str, Any] = dict(warehouse.meta().get("audit_inputs") or {})
        store_entitlements = False
        if entitlements is not None:
            rows, sha = load_entitlements(entitlements, catalogue, allow_empty=allow_empty_entitlements)
            meta_inputs["entitlements_sha256"] = sha
            store_entitlements = True
        else:
            rows = _stored_entitlements(warehouse)
            if plans is not None:
                rows = resolve(rows, catalogue, "the entitlements stored in the warehouse (line numbers of the file loaded)")
                store_entitlements = True
        if plans is not None or "plans_sha256" not in meta_inputs:
            meta_inputs["plans_sha256"] = catalogue.sha256
            # Reports rendered later (by nightly or demo, without --plans) need the prices.
            meta_inputs["plans_toml"] = catalogue.text
        settings = _settings(period_from, period_to, tolerance)
        with warehouse.transaction() as tx, _engine_connection(warehouse, rows, policy) as (con, scratch):
            run_query(con, "audit_events_all")
            run_query(con, "audit_state_none")
            con.register("a_day_floor", pa.table({"instance": pa.array([], pa.string()),
                                                  "first_day": pa.array([], pa.date32())}))
            for table in OUTPUTS:
                con.register(f"a_kept_{table}", _empty_with_part(table))
            run_query(con, "audit_instances")
            max_ts = con.execute(load_query("audit_max_ts")).fetchone()[0]
            _compute(con, policy, max_ts, lambda: [run_query(con, name) for name in FULL_DAY_INPUTS])
            run_query(con, "audit_period_days_all")
            run_query(con, "audit_summary_inputs_daily")
            run_query(con, "audit_summary_inputs_levels")
            _summarise(con, settings)
            if store_entitlements:
                tx.clear("entitlements")
                tx.write("entitlements", "all", to_arrow(rows))
            # the empty files are written only when there is no breach partition to compare with
            replaced_breaches = [str(f) for f in warehouse.files("breaches")] or [
                str(_empty_files(scratch)["breaches"])
            ]
            for table in OUTPUTS:
                tx.clear(table)
            result = _write_outputs(con, tx, scratch)
            result.new_breaches = _new_breaches(con, replaced_breaches)
            facts = _run_facts(con)
            tx.meta.pop("pending_audit", None)
            tx.meta["audit_inputs"] = meta_inputs
            tx.meta["audit"] = {**settings, **facts, "engine": ENGINE_VERSION, "finished_at": _now()}
            if on_commit is not None:
                on_commit(tx.meta, result)
        return result


def reaudit_pending(
    warehouse: Warehouse, *, policy: Policy = DEFAULT_POLICY, on_commit: OnCommit | None = None
) -> AuditResult:
    """Bring the audit's tables up to date with ``meta["pending_audit"]`` (what ingest added).

    Re-reads only the recent data of the instances with new events (see the module
    doc) and gives tables equal to a full ``run_audit`` of all the data, with the
    period and tolerance of the last audit. Nothing pending: nothing to do. A
    warehouse never audited, or audited by another ENGINE_VERSION, gets a full audit. A
    run that fails leaves ``pending_audit`` in place for the next one. ON_COMMIT: as
    for ``run_audit``.
    """
    with warehouse.lock():
        meta = warehouse.meta()
        pending: dict[str, list[str]] = dict(meta.get("pending_audit") or {})
        if not pending:
            return AuditResult()
        last = dict(meta.get("audit") or {})
        settings_from = date.fromisoformat(last["period_from"]) if last.get("period_from") else None
        settings_to = date.fromisoformat(last["period_to"]) if last.get("period_to") else None
        tolerance = timedelta(seconds=float(last.get("tolerance_s") or 0))
        if last.get("engine") != ENGINE_VERSION or not warehouse.files("instance_summary"):
            return run_audit(warehouse, period_from=settings_from, period_to=settings_to, tolerance=tolerance,
                             policy=policy, on_commit=on_commit)
        rows = _stored_entitlements(warehouse)
        settings = _settings(settings_from, settings_to, tolerance)
        with warehouse.transaction() as tx, _engine_connection(warehouse, rows, policy) as (con, scratch):
            result = _reaudit(con, tx, scratch, warehouse, rows, pending, last, settings, policy)
            tx.meta.pop("pending_audit", None)
            if on_commit is not None:
                on_commit(tx.meta, result)
        return result


# --- the engine ----------------------------------------------------------------------

@contextlib.contextmanager
def _engine_connection(
    warehouse: Warehouse, rows: list[Entitlement], policy: Policy
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A configured connection with the entitlements and policy registered, and a scratch folder."""
    con = warehouse.connect()
    try:
        scratch = warehouse.scratch_dir()
        _configure(con, scratch)
        _define_inputs(con, rows, policy)
        yield con, scratch
    finally:
        con.close()



def _define_inputs(con: duckdb.DuckDBPyConnection, rows: list[Entitlement], policy: Policy) -> None:
    con.register("a_entitlements_in", to_arrow(rows))
    con.register(
        "a_policy_expiry",
        pa.table(
            {
                "auth_flow": pa.array(list(policy.absolute_expiry), pa.string()),
                "expiry_us": pa.array([_us(v) for v in policy.absolute_expiry.values()], pa.int64()),
            }
        ),
    )


def _compute(
    con: duckdb.DuckDBPyConnection, policy: Policy, max_ts: datetime | None, define_day_inputs: Callable[[], object]
) -> None:
    """Run the engine from a_events_in / a_session_state_in to the output views."""
    params = {
        "audit_activity": {"idle_us": _us(policy.idle_timeout)},
        "audit_segments": {
            "idle_us": _us(policy.idle_timeout),
            "uncounted": sorted(policy.uncounted_user_types),
            "max_ts": max_ts,
        },
    }
    for name in SEGMENT_STEPS:
        run_query(con, name, params.get(name))
    con.register("a_chain_marks", pa.table({"n": pa.array(_follow_expiry_chains(con), pa.int64())}))
    for name in SWEEP_STEPS:
        run_query(con, name, params.get(name))
    define_day_inputs()
    for name in DAY_STEPS:
        run_query(con, name, params.get(name))


def _summarise(con: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> None:
    params = {
        "period_from": date.fromisoformat(settings["period_from"]) if settings["period_from"] else None,
        "period_to": date.fromisoformat(settings["period_to"]) if settings["period_to"] else None,
        "tolerance_us": round(settings["tolerance_s"] * 1_000_000),
    }
    run_query(con, "audit_instance_summary", params)
    run_query(con, "audit_out_instance_summary")


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


# --- incremental ----------------------------------------------------------------------

def _reaudit(
    con: duckdb.DuckDBPyConnection,
    tx: Transaction,
    scratch: Path,
    warehouse: Warehouse,
    rows: list[Entitlement],
    pending: dict[str, list[str]],
    last: dict[str, Any],
    settings: dict[str, Any],
    policy: Policy,
) -> AuditResult:
    zones = _instance_zones(rows)
    empty = _empty_files(scratch)
    parts = {table: warehouse.partitions(table) for table in ("events", *OUTPUTS)}
    max_segment = timedelta(microseconds=int(last.get("max_segment_us") or 0))
    max_ts = max([_parse_ts(last["max_ts"])] + [_parse_ts(span[1]) for span in pending.values()])

    # The restart point of each instance: at or before its earliest new event, with no stored
    # segment starting before it and ending at or after it, and no session whose attributes
    # the new events change starting before it.
    q = {inst: _parse_ts(span[0]) for inst, span in pending.items()}
    # How far back to read stored segments: any that covers q starts within the longest
    # segment before it; when covered points move back, the window doubles, so an instance
    # that never pauses costs a few statements, not one per segment.
    reach = max_segment + timedelta(days=1)
    while True:
        _set_restart_points(con, q, zones)
        lookback = min(q.values()) - reach
        covered = con.execute(
            load_query("audit_covering"),
            {"files": _files_from(parts["sessions"], lookback.date(), empty["sessions"])},
        ).fetchall()
        if covered:
            for inst, start in covered:
                q[inst] = start
            reach = min(reach * 2, MAX_LOOKBACK)
            continue
        cut = min(q.values()).date()
        run_query(con, "audit_events_recent", {"files": _files_from(parts["events"], cut, empty["events"])})
        run_query(con, "audit_instances")
        run_query(con, "audit_state_recent", {
            "state_files": _all_files(parts["session_state"], empty["session_state"]),
            "session_files": _files_from(parts["sessions"], cut, empty["sessions"]),
        })
        run_query(con, "audit_session_attributes")
        changed = con.execute(load_query("audit_changed_sessions")).fetchall()
        if not changed:
            break
        for inst, first_ts in changed:
            q[inst] = min(first_ts, q[inst])

    cut = min(q.values()).date()
    cut_day = min(_local_date(v, zones.get(i, "UTC")) for i, v in q.items())
    run_query(con, "audit_day_floor")
    # Each restart day is recomputed whole: its days read the kept rows of that day too.
    first_d0 = min(_midnight_at_or_before(v, zones.get(i, "UTC")) for i, v in q.items())
    lookback = (first_d0 - max_segment - timedelta(days=1)).date()

    def day_inputs() -> None:
        run_query(con, "audit_day_inputs_recent", {"files": _files_from(parts["sessions"], lookback, empty["sessions"])})
        run_query(con, "audit_day_steps_recent", {"files": _files_from(parts["usage_steps"], lookback, empty["usage_steps"])})
        run_query(con, "audit_day_breaches_recent", {"files": _files_from(parts["breaches"], first_d0.date(), empty["breaches"])})
        run_query(con, "audit_denial_events_recent", {"files": _files_from(parts["events"], first_d0.date(), empty["events"])})

    _compute(con, policy, max_ts, day_inputs)

    # The partitions to rewrite, and the stored rows they keep.
    state_files = {Path(r[0]) for r in con.execute(
        load_query("audit_state_partitions"), {"files": _all_files(parts["session_state"], empty["session_state"])}
    ).fetchall()}
    open_parts = {f"date={p}" for p in last.get("open_partitions") or []}
    rewrite = {
        "sessions": {k for k in parts["sessions"] if _key_date(k) >= cut} | (open_parts & set(parts["sessions"])),
        "usage_steps": {k for k in parts["usage_steps"] if _key_date(k) >= cut},
        "breaches": {k for k in parts["breaches"] if _key_date(k) >= cut},
        "daily_usage": {k for k in parts["daily_usage"] if _key_date(k) >= cut_day},
        "daily_levels": {k for k in parts["daily_levels"] if _key_date(k) >= cut_day},
        "session_state": {k for k, f in parts["session_state"].items() if f in state_files},
        "instance_summary": set(parts["instance_summary"]),
    }
    # A stored partition that receives new rows must be rewritten too, or they would replace it.
    for table, value in run_query(con, "audit_out_parts").fetchall():
        key = OUTPUTS[table] + value
        if key in parts[table]:
            rewrite[table].add(key)
    kept_params = {"sessions": {"max_ts": max_ts, "idle_us": _us(policy.idle_timeout)}}
    for table, keys in rewrite.items():
        files = [str(parts[table][k]) for k in sorted(keys)] or [str(empty[table])]
        run_query(con, f"audit_kept_{table}", {"files": files, **kept_params.get(table, {})})
    run_query(con, "audit_period_days_recent", {"files": _all_files(parts["instance_summary"], empty["instance_summary"])})
    run_query(con, "audit_summary_history_daily", {"files": _files_before(parts["daily_usage"], None, empty["daily_usage"])})
    run_query(con, "audit_summary_history_levels", {"files": _files_before(parts["daily_levels"], None, empty["daily_levels"])})
    _summarise(con, settings)
    for table, keys in rewrite.items():
        for key in keys:
            tx.remove(table, key)
    result = _write_outputs(con, tx, scratch)
    result.incremental = True
    result.new_breaches = _new_breaches(
        con, [str(parts["breaches"][k]) for k in sorted(rewrite["breaches"])] or [str(empty["breaches"])]
    )
    open_files = [str(parts["sessions"][k]) for k in sorted(open_parts & set(parts["sessions"]))]
    if open_files:
        ended = run_query(con, "audit_ended_open_instances", {"files": open_files, "max_ts": max_ts}).fetchall()
        result.instances = sorted(set(result.instances) | {name for (name,) in ended})
    facts = _run_facts(con)
    tx.meta["audit"] = {
        **settings,
        "engine": ENGINE_VERSION,
        "max_ts": max_ts.isoformat(),
        "max_segment_us": max(int(last.get("max_segment_us") or 0), facts["max_segment_us"]),
        "open_partitions": facts["open_partitions"],
        "finished_at": _now(),
    }
    return result


def _set_restart_points(con: duckdb.DuckDBPyConnection, q: dict[str, datetime], zones: dict[str, str]) -> None:
    names = sorted(q)
    points = pa.table(
        {
            "instance": pa.array(names, pa.string()),
            "q": pa.array([q[n] for n in names], pa.timestamp("us", tz="UTC")),
            "q_day": pa.array([_local_date(q[n], zones.get(n, "UTC")) for n in names], pa.date32()),
            "d0": pa.array([_midnight_at_or_before(q[n], zones.get(n, "UTC")) for n in names], pa.timestamp("us", tz="UTC")),
        }
    )
    con.register("a_restart_points", points)
    con.register("a_q", points)


def _instance_zones(rows: Iterable[Entitlement]) -> dict[str, str]:
    """Each instance's time zone: that of its latest entitlement row."""
    latest: dict[str, Entitlement] = {}
    for row in rows:
        if row.instance not in latest or row.valid_from_ts > latest[row.instance].valid_from_ts:
            latest[row.instance] = row
    return {inst: row.timezone for inst, row in latest.items()}


def _midnight_at_or_before(t: datetime, tz: str) -> datetime:
    local = t.astimezone(ZoneInfo(tz))
    return datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def _local_date(t: datetime, tz: str) -> date:
    return t.astimezone(ZoneInfo(tz)).date()


def _parse_ts(text: str | datetime) -> datetime:
    value = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _key_date(key: str) -> date:
    return date.fromisoformat(key.split("=", 1)[1])


def _files_from(parts: dict[str, Path], first: date, empty: Path) -> list[str]:
    """The files of partitions dated FIRST or later (never an empty list)."""
    return [str(p) for k, p in parts.items() if _key_date(k) >= first] or [str(empty)]


def _files_before(parts: dict[str, Path], before: date | None, empty: Path) -> list[str]:
    return [str(p) for k, p in parts.items() if before is None or _key_date(k) < before] or [str(empty)]


def _all_files(parts: dict[str, Path], empty: Path) -> list[str]:
    return [str(p) for p in parts.values()] or [str(empty)]


def _empty_files(scratch: Path) -> dict[str, Path]:
    """An empty Parquet file per table, so that a list of partitions is never empty."""
    folder = scratch / "empty"
    folder.mkdir()
    out = {}
    for table in ("events", *OUTPUTS):
        path = folder / f"{table}.parquet"
        pq.write_table(TABLES[table].empty_table(), path)
        out[table] = path
    return out


def _empty_with_part(table: str) -> pa.Table:
    schema = TABLES[table].append(pa.field("part", pa.string()))
    return schema.empty_table()


# --- writing ----------------------------------------------------------------------------

def _write_outputs(con: duckdb.DuckDBPyConnection, tx: Transaction, scratch: Path) -> AuditResult:
    """Write each output table's (re)computed partitions into TX."""
    for table, prefix in OUTPUTS.items():
        out_dir = scratch / table
        run_query(con, f"audit_write_{table}", {"dir": str(out_dir)})
        for folder in sorted(out_dir.iterdir()) if out_dir.exists() else []:
            value = folder.name.removeprefix("part=")
            key = prefix + value if prefix else value
            files = sorted(folder.glob("*.parquet"))
            target = tx.new_file(table, key)
            if len(files) == 1:
                os.replace(files[0], target)
            else:
                # DuckDB splits a partition only when it is huge; keep one file each.
                run_query(con, "audit_merge_parquet", {"files": [str(f) for f in files], "path": str(target)})
            tx.put(table, key, target)
    result = AuditResult()
    row = run_query(con, "audit_counts").fetchone()
    result.counts = {name: int(value) for name, value in zip(COUNTED_TABLES, row[:-1])}
    result.instances = list(row[-1] or [])
    result.breaches = [Breach(*r) for r in run_query(con, "audit_breach_list").fetchall()]
    return result


def _new_breaches(con: duckdb.DuckDBPyConnection, replaced_files: list[str]) -> list[tuple[str, datetime]]:
    return [tuple(r) for r in run_query(con, "audit_new_breaches", {"files": replaced_files}).fetchall()]


def _run_facts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    max_ts, max_segment_us, open_partitions = run_query(con, "audit_run_facts").fetchone()
    return {
        "max_ts": max_ts.isoformat() if max_ts else datetime(1970, 1, 1, tzinfo=timezone.utc).isoformat(),
        "max_segment_us": int(max_segment_us or 0),
        "open_partitions": list(open_partitions or []),
    }


def _settings(period_from: date | None, period_to: date | None, tolerance: timedelta) -> dict[str, Any]:
    return {
        "period_from": period_from.isoformat() if period_from else None,
        "period_to": period_to.isoformat() if period_to else None,
        "tolerance_s": tolerance.total_seconds(),
    }


def _stored_entitlements(warehouse: Warehouse) -> list[Entitlement]:
    if not warehouse.files("entitlements"):
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
    # DuckDB would take 80% of the machine; a bounded limit makes it spill instead, so an
    # audit of tens of millions of events stays within a few GB (MEMORY_LIMIT_ENV).
    limit = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    try:
        con.execute("SET memory_limit = $limit", {"limit": limit})
    except duckdb.Error as exc:
        raise UsageError(f"{MEMORY_LIMIT_ENV}={limit} is not a memory size (e.g. 3GB or 8000MB): {exc}") from exc
    con.execute("SET preserve_insertion_order = false")


def _us(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
