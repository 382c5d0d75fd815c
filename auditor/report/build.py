"""Filling the templates' data (auditor/report/context.py) from the queries' rows.

Each report's verdict on its period is the audit's own statement
(queries/audit/verdict.sql), run here over the warehouse's per-day tables for
every report's period; the breaches, days, charts and footnotes come from
queries/report/*.sql. Nothing here decides a status or a limit: the code below
only maps rows onto the classes, prices the sessions the verdict recommends
and picks what the HTML has room for.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from auditor import timezones
from auditor.plans import PlanCatalogue
from auditor.policy import Policy
from auditor.queries import run_query
from auditor.report.context import (
    STATUS_ORDER,
    BreachRow,
    DayRow,
    FindingRow,
    Gap,
    InstanceFigures,
    LimitSpan,
    OverviewContext,
    PeakSession,
    PolicyFacts,
    Polling,
    Quality,
    Recommendation,
    ReportContext,
    SeriesData,
    Step,
)
from auditor.report.period import Period

#: How many breaches get the full "who was connected at the peak" table in the HTML, and
#: how many session rows those tables may hold in all; the rest are in the evidence CSV
#: beside it (Gmail clips messages over ~100 KB).
MAX_EVIDENCE_TABLES = 8
EVIDENCE_ROW_BUDGET = 150
#: How many licence-term findings the HTML describes (the most seats implied first); it counts the rest.
MAX_FINDINGS_SHOWN = 10
#: How many of a polled instance's gaps (the longest) the footnote names with their times.
LONGEST_GAPS = 3
#: The statements that give audit/verdict each report's period and the warehouse's per-day rows.
VERDICT_INPUTS = ("report/verdict_periods", "report/verdict_daily", "report/verdict_levels",
                  "report/verdict_entitlements", "report/verdict_coverage", "report/verdict_findings")


# --- the scope: which instance is reported for which instants -------------------


@dataclass(frozen=True)
class Scope:
    instance: str
    timezone: str
    period: Period
    period_start: datetime
    period_end: datetime


def scope_for(instance: str, tz: str, period: Period) -> Scope:
    start, end = period.bounds(tz)
    return Scope(instance, tz or "UTC", period, start, end)


def register_scope(con: duckdb.DuckDBPyConnection, scopes: Sequence[Scope]) -> None:
    """Make ``report_scope`` (read by queries/report/*.sql) hold SCOPES."""
    table = pa.table(
        {
            "instance": pa.array([s.instance for s in scopes], pa.string()),
            "timezone": pa.array([s.timezone for s in scopes], pa.string()),
            "period_start": pa.array([s.period_start for s in scopes], pa.timestamp("us", tz="UTC")),
            "period_end": pa.array([s.period_end for s in scopes], pa.timestamp("us", tz="UTC")),
            "first_day": pa.array([s.period.first_day for s in scopes], pa.date32()),
            "end_day": pa.array([s.period.end_day for s in scopes], pa.date32()),
        }
    )
    con.register("report_scope", table)


def rows(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = run_query(con, name, dict(params or {}))
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def verdicts(con: duckdb.DuckDBPyConnection, tolerance: timedelta) -> dict[str, dict[str, Any]]:
    """The verdict on each scoped instance's period (needs ``register_scope`` first)."""
    for name in VERDICT_INPUTS:
        run_query(con, name)
    run_query(con, "audit/verdict", {"tolerance_us": tolerance // timedelta(microseconds=1)})
    return {r["instance"]: r for r in rows(con, "report/verdicts")}


# --- the overview's rows and each report's verdict ------------------------------


def plan_title(plan: str | None) -> str | None:
    if not plan:
        return None
    return " ".join(word.capitalize() for word in plan.replace("_", "-").split("-"))


def recommendation(
    verdict: Mapping[str, Any], current: LimitSpan | None, plan_maximum: int, catalogue: PlanCatalogue,
    tolerance: timedelta,
) -> Recommendation:
    """The verdict's recommended limit in the words and money of the plan catalogue.

    A larger plan when the verdict says the limit does not fit the plan (with no
    entitlement in the period, when it exceeds PLAN_MAXIMUM); else the sessions
    to add, priced when the plan has a price.
    """
    needed = verdict["recommended_seat_limit"]
    tolerance_s = tolerance.total_seconds()
    if current is None:
        kind = "unlicensed" if needed <= plan_maximum else "unlicensed_larger"
        return Recommendation(kind, needed, 0, None, plan_maximum, None, None, tolerance_s)
    plan = catalogue.get(current.plan)
    price = plan.extra_session_monthly_price if plan else None
    if not verdict["fits_plan_maximum"]:
        kind = "larger_plan"
    elif verdict["sessions_to_add"] > 0:
        kind = "add_sessions"
    else:
        kind = "none_needed"
    extra = verdict["sessions_to_add"] if kind == "add_sessions" else 0
    cost = None if price is None or kind != "add_sessions" else round(extra * price, 2)
    return Recommendation(kind, needed, extra, current.seat_limit, current.plan_maximum, price, cost, tolerance_s)


def build_figures(
    con: duckdb.DuckDBPyConnection,
    scopes: Sequence[Scope],
    instances: Mapping[str, Mapping[str, Any]],
    file_stems: Mapping[str, str],
    catalogue: PlanCatalogue,
    tolerance: timedelta,
    name_notes: Mapping[str, str] | None = None,
) -> dict[str, InstanceFigures]:
    """Every scoped instance's period figures (needs ``register_scope`` first).

    INSTANCES: the rows of report/instances (what the audit knows of each);
    NAME_NOTES: the notes of ``auditor.names.name_notes`` on the audited instances' names.
    """
    judged = verdicts(con, tolerance)
    polled = {r["instance"] for r in rows(con, "report/polled")}
    spans: dict[str, list[LimitSpan]] = defaultdict(list)
    customers: dict[str, str] = {}
    first_days = {s.instance: s.period.first_day for s in scopes}
    for r in rows(con, "report/entitlements"):
        if r["customer"]:
            customers[r["instance"]] = r["customer"]  # the latest row in force that names one
        spans[r["instance"]].append(
            LimitSpan(
                r["plan"], plan_title(r["plan"]) or r["plan"], r["seat_limit"], r["extra_sessions"],
                r["plan_maximum"], r["valid_from"], r["valid_to"], r["valid_from_ts"], r["valid_to_ts"],
                r["valid_from"] > first_days[r["instance"]],
            )
        )

    figures = {}
    for scope in scopes:
        info = instances[scope.instance]
        v = judged[scope.instance]
        limits = tuple(spans.get(scope.instance, ()))
        current = limits[-1] if limits else None
        plan = current.plan if current else info.get("plan")
        plan_max = v["plan_maximum"] or info.get("plan_maximum") or _catalogue_maximum(catalogue)
        figures[scope.instance] = InstanceFigures(
            instance=scope.instance,
            file_stem=file_stems[scope.instance],
            customer=customers.get(scope.instance) or info.get("customer"),
            plan=plan,
            plan_title=plan_title(plan),
            timezone=scope.timezone,
            account_manager=info.get("account_manager"),
            period=scope.period,
            period_start=scope.period_start,
            period_end=scope.period_end,
            seat_limit=v["seat_limit"],
            limits=limits,
            plan_maximum=plan_max,
            peak_seats=v["peak_seats"],
            peak_at=v["peak_at"],
            seconds_over_limit=v["seconds_over_limit"],
            seconds_in_use=v["seconds_in_use"],
            seconds_unlicensed=v["seconds_unlicensed"],
            breach_count=v["breach_count"],
            denials=v["denials"],
            audit_status=v["status"],
            limit_reached=v["limit_reached"],
            recommendation=recommendation(v, current, plan_max, catalogue, tolerance),
            peak_seats_min=v["peak_seats_min"],
            seconds_over_limit_min=v["seconds_over_limit_min"],
            certain_breach_count=v["certain_breach_count"],
            coverage=v["coverage"],
            findings=v["findings"],
            peak_seats_implied=v["peak_seats_implied"],
            polled=scope.instance in polled,
            name_note=(name_notes or {}).get(scope.instance),
        )
    return figures


def _catalogue_maximum(catalogue: PlanCatalogue) -> int:
    return max((p.max_sessions for p in catalogue.plans.values()), default=35)


def sort_overview(figures: Iterable[InstanceFigures]) -> list[InstanceFigures]:
    """Most urgent first; within a status, more time over the limit, more excess, more denials first.

    An instance with licence-term findings ranks with the urgent ones: no lower than a possible breach.
    """
    urgent = STATUS_ORDER.index("possible_breach")
    return sorted(
        figures,
        key=lambda f: (
            min(STATUS_ORDER.index(f.status), urgent) if f.findings else STATUS_ORDER.index(f.status),
            -f.findings,
            -f.seconds_over_limit,
            -(f.peak_seats - (f.seat_limit or 0)),
            -f.denials,
            f.instance,
        ),
    )


def build_overview(figures: Iterable[InstanceFigures]) -> OverviewContext:
    ordered = tuple(sort_overview(figures))
    extra_total = sum(f.recommendation.extra_sessions for f in ordered)
    needing = [f for f in ordered if f.recommendation.extra_sessions > 0]
    priced = [f for f in needing if f.recommendation.monthly_cost is not None]
    revenue = round(sum(f.recommendation.monthly_cost or 0.0 for f in priced), 2) if priced else None
    return OverviewContext(
        rows=ordered,
        period_titles=tuple(sorted({f.period.title for f in ordered})),
        instances_audited=len(ordered),
        instances_in_breach=sum(1 for f in ordered if f.status in ("breach", "beyond_plan_maximum")),
        instances_possibly_in_breach=sum(1 for f in ordered if f.status == "possible_breach"),
        extra_sessions_total=extra_total,
        monthly_revenue=revenue,
        priced_partially=bool(priced) and len(priced) < len(needing),
        has_bounds=any(f.polled for f in ordered),
        instances_with_findings=sum(1 for f in ordered if f.findings),
    )


def policy_facts(policy: Policy) -> PolicyFacts:
    return PolicyFacts(
        idle_timeout_min=policy.idle_timeout.total_seconds() / 60,
        expiries=tuple(sorted((flow, d.total_seconds() / 60) for flow, d in policy.absolute_expiry.items())),
        uncounted_user_types=tuple(sorted(policy.uncounted_user_types)),
        poll_interval_s=policy.poll_interval.total_seconds(),
    )


# --- each report's details ------------------------------------------------------


def _evidence_shown(
    ranked: Sequence[Mapping[str, Any]], at_peak: Mapping[tuple[str, datetime], Sequence[PeakSession]], instance: str
) -> set[datetime]:
    """The breaches (by start) whose sessions at the peak the HTML lists: the most severe first, within the budgets."""
    shown: set[datetime] = set()
    used = 0
    for b in ranked[:MAX_EVIDENCE_TABLES]:
        n = len(at_peak.get((instance, b["breach_start"]), ()))
        if shown and used + n > EVIDENCE_ROW_BUDGET:
            break
        shown.add(b["breach_start"])
        used += n
    return shown


def build_reports(
    con: duckdb.DuckDBPyConnection,
    figures: Mapping[str, InstanceFigures],
    selected: Sequence[str],
    data_range: tuple[datetime | None, datetime | None],
    policy: PolicyFacts,
) -> dict[str, ReportContext]:
    """The full context of each SELECTED instance's report (needs ``register_scope`` first)."""
    params = {"instances": list(selected)}
    breaches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows(con, "report/breaches", params):
        breaches[r["instance"]].append(r)
    at_peak: dict[tuple[str, datetime], list[PeakSession]] = defaultdict(list)
    for r in rows(con, "report/peak_sessions", params):
        at_peak[(r["instance"], r["breach_start"])].append(
            PeakSession(r["session_id"], r["user"], r["user_type"], r["device"], r["app"], r["seats"], r["start_ts"], r["end_ts"])
        )
    days: dict[str, list[DayRow]] = defaultdict(list)
    for r in rows(con, "report/daily", params):
        days[r["instance"]].append(
            DayRow(r["day"], r["peak_seats"], r["seat_limit"], r["seconds_over_limit"], r["breach_count"],
                   r["denials"], r["sessions"], r["distinct_users"], r["distinct_devices"], r["peak_seats_min"])
        )
    steps: dict[str, list[Step]] = defaultdict(list)
    for r in rows(con, "report/steps", params):
        steps[r["instance"]].append(
            Step(r["step_start"], r["step_end"], r["seats_in_use"], r["seat_limit"], r["seats_in_use_min"])
        )
    gaps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows(con, "report/gaps", {**params, "longest": LONGEST_GAPS}):
        gaps[r["instance"]].append(r)
    heat: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for r in rows(con, "report/heatmap", params):
        heat[r["instance"]].append((r["weekday"], r["hour"], r["peak_seats"]))
    findings: dict[str, list[FindingRow]] = defaultdict(list)
    for r in rows(con, "report/findings", params):
        findings[r["instance"]].append(
            FindingRow(r["kind"], r["session_id"], r["user"], r["first_seen"], r["last_seen"], r["occurrences"],
                       r["seats_implied"], r["peak_seats_implied"], r["evidence"])
        )
    quality = {r["instance"]: r for r in rows(con, "report/quality")}
    rejects = {r["instance"]: r for r in rows(con, "report/rejects", params)}

    out = {}
    for instance in selected:
        f = figures[instance]
        zone = timezones.zone(f.timezone)
        ranked = sorted(breaches[instance], key=lambda b: (-b["max_excess"], -b["duration_s"], b["breach_start"]))
        shown = _evidence_shown(ranked, at_peak, instance)
        rows_ = tuple(
            BreachRow(
                start=b["breach_start"].astimezone(zone),
                end=b["breach_end"].astimezone(zone),
                duration_s=b["duration_s"],
                peak_seats=b["peak_seats"],
                peak_at=b["peak_at"].astimezone(zone),
                seat_limit=b["seat_limit"],
                max_excess=b["max_excess"],
                sessions=tuple(
                    PeakSession(s.session_id, s.user, s.user_type, s.device, s.app, s.seats,
                                s.start.astimezone(zone), s.end.astimezone(zone))
                    for s in at_peak[(instance, b["breach_start"])]
                ),
                starts_before_period=b["breach_start"] < f.period_start,
                ends_after_period=b["breach_end"] > f.period_end,
                evidence_shown=b["breach_start"] in shown,
                certain=b["certain"],
                certain_seconds=b["certain_seconds"],
            )
            for b in breaches[instance]
        )
        q = quality.get(instance, {})
        rj = rejects.get(instance, {})
        first_ts, last_ts = data_range
        first_day = first_ts.astimezone(zone).date() if first_ts else None
        last_day = last_ts.astimezone(zone).date() if last_ts else None
        out[instance] = ReportContext(
            figures=f,
            breaches=rows_,
            days=tuple(days[instance]),
            quality=Quality(
                counted_segments=q.get("counted_segments", 0),
                idle_timeouts=q.get("idle_timeouts", 0),
                still_open=q.get("still_open", 0),
                inferred_starts=q.get("inferred_starts", 0),
                ended_by_restart=q.get("ended_by_restart", 0),
                uncounted_segments=q.get("uncounted_segments", 0),
                distinct_users=q.get("distinct_users", 0),
                distinct_devices=q.get("distinct_devices", 0),
                rejected_lines=rj.get("rejected_lines", 0),
                rejected_total=rj.get("rejected_total", 0),
                data_first_day=first_day,
                data_last_day=last_day,
                partial=_partial(first_day, last_day, f.period),
                unseen_logins=q.get("unseen_logins", 0),
                vanished=q.get("vanished", 0),
            ),
            policy=policy,
            series=SeriesData(tuple(steps[instance]), tuple(heat[instance])),
            evidence_file=f"{f.period.key}-breaches.csv" if rows_ else None,
            polling=_polling(gaps[instance], zone, policy) if f.polled else None,
            findings=tuple(
                dataclasses.replace(x, first_seen=x.first_seen.astimezone(zone), last_seen=x.last_seen.astimezone(zone))
                for x in findings[instance][:MAX_FINDINGS_SHOWN]
            ),
            hidden_findings=max(len(findings[instance]) - MAX_FINDINGS_SHOWN, 0),
        )
    return out


def _polling(gaps: Sequence[Mapping[str, Any]], zone: Any, policy: PolicyFacts) -> Polling:
    """The footnote's facts on a polled instance: the interval, and the period's gaps (rows of report/gaps)."""
    return Polling(
        interval_s=policy.poll_interval_s,
        gap_count=gaps[0]["gap_count"] if gaps else 0,
        longest_gaps=tuple(Gap(g["gap_start"].astimezone(zone), g["gap_end"].astimezone(zone), g["duration_s"]) for g in gaps),
    )


def _partial(first_day: date | None, last_day: date | None, period: Period) -> bool:
    """Whether the data's local days miss either end of PERIOD."""
    return first_day is None or first_day > period.first_day or last_day is None or last_day < period.last_day
