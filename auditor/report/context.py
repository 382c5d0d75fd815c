"""The typed context each template receives, built from the audit tables.

Every figure of a report is computed here (or in ``queries/report/*.sql``) for
the report's period in the customer's time zone; templates only lay it out.
``TEMPLATE_CONTEXT`` lists the keys each page receives; a test checks that the
templates use no other.

The period's figures come from usage_steps, breaches, daily_usage and sessions
clipped to the period: instance_summary covers the whole audited period, not
necessarily the report's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from auditor.plans import PlanCatalogue
from auditor.policy import Policy
from auditor.queries import run_query
from auditor.report.period import Period
from auditor import timezones

#: Most urgent first: the overview's order, and the words for each status.
STATUS_ORDER = ("breach", "beyond_plan_maximum", "unlicensed", "at_limit", "compliant")
STATUS_LABELS = {
    "breach": "In breach",
    "beyond_plan_maximum": "Beyond plan maximum",
    "unlicensed": "Unlicensed",
    "at_limit": "At the limit",
    "compliant": "Compliant",
}
#: How many breaches get the full "who was connected at the peak" table in the HTML, and
#: how many session rows those tables may hold in all; the rest are in the evidence CSV
#: beside it (Gmail clips messages over ~100 KB).
MAX_EVIDENCE_TABLES = 8
EVIDENCE_ROW_BUDGET = 150


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


# --- what the templates receive -----------------------------------------------


@dataclass(frozen=True)
class LimitSpan:
    """One entitlement in force during the period."""

    plan: str
    plan_title: str
    seat_limit: int
    extra_sessions: int
    plan_maximum: int
    valid_from: date
    #: Exclusive; None when open-ended.
    valid_to: date | None
    valid_from_ts: datetime
    valid_to_ts: datetime | None
    #: True when it took effect inside the period (a change the header shows).
    starts_in_period: bool


@dataclass(frozen=True)
class Recommendation:
    #: none_needed | add_sessions | larger_plan | unlicensed | unlicensed_larger
    kind: str
    #: The smallest limit under which time over the limit stays within the tolerance.
    needed_limit: int
    extra_sessions: int
    current_limit: int | None
    new_extra_sessions: int | None
    plan_maximum: int
    #: Monthly price of one additional session, when the plan catalogue has it.
    unit_price: float | None
    monthly_cost: float | None
    tolerance_s: float


@dataclass(frozen=True)
class InstanceFigures:
    """One instance's figures for its report period: the overview's row, the report's verdict."""

    instance: str
    file_stem: str
    customer: str | None
    plan: str | None
    plan_title: str | None
    timezone: str
    account_manager: str | None
    period: Period
    period_start: datetime
    period_end: datetime
    seat_limit: int | None
    limits: tuple[LimitSpan, ...]
    plan_maximum: int
    peak_seats: int
    peak_at: datetime | None
    seconds_over_limit: float
    seconds_in_use: float
    seconds_unlicensed: float
    breach_count: int
    denials: int
    status: str
    recommendation: Recommendation
    #: Why the name could mislead a reader (mixed scripts, invisible characters, another
    #: audited instance that looks the same: ``auditor.names``); None for most names.
    name_note: str | None = None

    @property
    def compliant(self) -> bool:
        return self.status in ("compliant", "at_limit")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def headroom(self) -> int | None:
        return None if self.seat_limit is None else self.seat_limit - self.peak_seats

    @property
    def limit_summary(self) -> str:
        """``3``, or ``3, then 4 from 15 Oct`` when the limit changed within the period."""
        if not self.limits:
            return "none"
        parts = [str(self.limits[0].seat_limit)]
        for span in self.limits[1:]:
            parts.append(f"then {span.seat_limit} from {span.valid_from.day} {span.valid_from.strftime('%b')}")
        return ", ".join(parts)

    @property
    def limit_changes(self) -> tuple[LimitSpan, ...]:
        return tuple(span for span in self.limits if span.starts_in_period)

    @property
    def report_href(self) -> str:
        """The report's path relative to the output folder (the overview links to it)."""
        return f"{self.file_stem}/{self.period.key}.html"


@dataclass(frozen=True)
class PeakSession:
    session_id: str
    user: str | None
    user_type: str | None
    device: str | None
    app: str | None
    seats: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BreachRow:
    start: datetime
    end: datetime
    duration_s: float
    peak_seats: int
    peak_at: datetime
    seat_limit: int
    max_excess: int
    sessions: tuple[PeakSession, ...]
    starts_before_period: bool
    ends_after_period: bool
    #: Whether its "who was connected" table is in the HTML (else only in the evidence CSV).
    evidence_shown: bool

    @property
    def sessions_seats(self) -> int:
        return sum(s.seats for s in self.sessions)


@dataclass(frozen=True)
class DayRow:
    day: date
    peak_seats: int
    seat_limit: int | None
    seconds_over_limit: float
    breach_count: int
    denials: int
    sessions: int
    distinct_users: int
    distinct_devices: int


@dataclass(frozen=True)
class Quality:
    counted_segments: int
    idle_timeouts: int
    still_open: int
    inferred_starts: int
    ended_by_restart: int
    uncounted_segments: int
    distinct_users: int
    distinct_devices: int
    rejected_lines: int
    rejected_total: int
    #: When the data does not reach one end of the period: the local days it covers.
    data_first_day: date | None
    data_last_day: date | None
    partial: bool


@dataclass(frozen=True)
class PolicyFacts:
    idle_timeout_min: float
    expiries: tuple[tuple[str, float], ...]
    uncounted_user_types: tuple[str, ...]


@dataclass(frozen=True)
class SeriesData:
    """What the charts draw (not shown as text)."""

    steps: tuple[tuple[datetime, datetime, int, int | None], ...]
    heatmap: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class ReportContext:
    figures: InstanceFigures
    breaches: tuple[BreachRow, ...]
    days: tuple[DayRow, ...]
    quality: Quality
    policy: PolicyFacts
    series: SeriesData
    evidence_file: str | None

    @property
    def denial_days(self) -> tuple[DayRow, ...]:
        return tuple(d for d in self.days if d.denials > 0)

    @property
    def hidden_evidence(self) -> int:
        return sum(1 for b in self.breaches if not b.evidence_shown)


@dataclass(frozen=True)
class ChartImage:
    src: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class OverviewContext:
    rows: tuple[InstanceFigures, ...]
    period_titles: tuple[str, ...]
    instances_audited: int
    instances_in_breach: int
    extra_sessions_total: int
    #: The monthly price of the recommended add-ons, when every one has a known price.
    monthly_revenue: float | None
    priced_partially: bool


#: The keys each page receives (the contract between this module and templates/).
TEMPLATE_CONTEXT: dict[str, dict[str, type | str]] = {
    "report.html": {"report": ReportContext, "charts": "dict[str, ChartImage] (seats, daily, heatmap)"},
    "report.txt": {"report": ReportContext},
    "index.html": {"overview": OverviewContext},
}


# --- building it ------------------------------------------------------------


def plan_title(plan: str | None) -> str | None:
    if not plan:
        return None
    return " ".join(word.capitalize() for word in plan.replace("_", "-").split("-"))


def needed_limit(levels: Iterable[tuple[int, float]], tolerance_s: float) -> int:
    """The smallest limit v such that the time with more than v seats in use is at most the tolerance."""
    by_level = sorted(levels, reverse=True)
    above = 0.0
    for level, seconds in by_level:
        # Time above level-1 includes this level's time: if it exceeds the
        # tolerance, limit `level` is needed.
        above += seconds
        if above > tolerance_s:
            return level
    return 0


def status_of(has_entitlement: bool, peak: int, plan_maximum: int, breaches: int, limit_reached: bool) -> str:
    if not has_entitlement:
        return "unlicensed"
    if peak > plan_maximum:
        return "beyond_plan_maximum"
    if breaches > 0:
        return "breach"
    if limit_reached:
        return "at_limit"
    return "compliant"


def recommend(
    needed: int,
    limits: Sequence[LimitSpan],
    plan_maximum: int,
    catalogue: PlanCatalogue,
    tolerance_s: float,
) -> Recommendation:
    if not limits:
        kind = "unlicensed" if needed <= plan_maximum else "unlicensed_larger"
        return Recommendation(kind, needed, 0, None, None, plan_maximum, None, None, tolerance_s)
    current = limits[-1]
    plan = catalogue.get(current.plan)
    price = plan.extra_session_monthly_price if plan else None
    extra = max(0, needed - current.seat_limit)
    if needed > current.plan_maximum:
        kind = "larger_plan"
    elif extra > 0:
        kind = "add_sessions"
    else:
        kind = "none_needed"
    cost = None if price is None or kind != "add_sessions" else round(extra * price, 2)
    return Recommendation(
        kind, needed, extra if kind == "add_sessions" else 0, current.seat_limit,
        current.extra_sessions + extra if kind == "add_sessions" else current.extra_sessions,
        current.plan_maximum, price, cost, tolerance_s,
    )


def build_figures(
    con: duckdb.DuckDBPyConnection,
    scopes: Sequence[Scope],
    instances: Mapping[str, Mapping[str, Any]],
    file_stems: Mapping[str, str],
    catalogue: PlanCatalogue,
    tolerance_s: float,
    name_notes: Mapping[str, str] | None = None,
) -> dict[str, InstanceFigures]:
    """Every scoped instance's period figures (needs ``register_scope`` first).

    NAME_NOTES: the notes of ``auditor.names.name_notes`` on the audited instances' names.
    """
    totals = {r["instance"]: r for r in rows(con, "report/totals")}
    spans: dict[str, list[LimitSpan]] = defaultdict(list)
    customers: dict[str, str] = {}
    first_days = {s.instance: s.period.first_day for s in scopes}
    for r in rows(con, "report/entitlements"):
        scope_first = first_days[r["instance"]]
        if r["customer"]:
            customers[r["instance"]] = r["customer"]  # the latest row in force wins
        spans[r["instance"]].append(
            LimitSpan(
                r["plan"], plan_title(r["plan"]) or r["plan"], r["seat_limit"], r["extra_sessions"],
                r["plan_maximum"], r["valid_from"], r["valid_to"], r["valid_from_ts"], r["valid_to_ts"],
                r["valid_from"] > scope_first,
            )
        )
    levels: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in rows(con, "report/levels"):
        levels[r["instance"]].append((r["seats_in_use"], r["seconds"]))

    figures = {}
    for scope in scopes:
        info = instances[scope.instance]
        t = totals[scope.instance]
        limits = tuple(spans.get(scope.instance, ()))
        current = limits[-1] if limits else None
        plan_max = current.plan_maximum if current else (info.get("plan_maximum") or _catalogue_maximum(catalogue))
        need = needed_limit(levels.get(scope.instance, ()), tolerance_s)
        status = status_of(bool(limits), t["peak_seats"], plan_max, t["breach_count"], t["limit_reached"])
        figures[scope.instance] = InstanceFigures(
            instance=scope.instance,
            file_stem=file_stems[scope.instance],
            customer=customers.get(scope.instance) or info.get("customer"),
            plan=current.plan if current else info.get("plan"),
            plan_title=plan_title(current.plan if current else info.get("plan")),
            timezone=scope.timezone,
            account_manager=info.get("account_manager"),
            period=scope.period,
            period_start=scope.period_start,
            period_end=scope.period_end,
            seat_limit=current.seat_limit if current else None,
            limits=limits,
            plan_maximum=plan_max,
            peak_seats=t["peak_seats"],
            peak_at=t["peak_at"],
            seconds_over_limit=t["seconds_over_limit"],
            seconds_in_use=t["seconds_in_use"],
            seconds_unlicensed=t["seconds_unlicensed"] if limits else 0.0,
            breach_count=t["breach_count"],
            denials=t["denials"],
            status=status,
            recommendation=recommend(need, limits, plan_max, catalogue, tolerance_s),
            name_note=(name_notes or {}).get(scope.instance),
        )
    return figures


def _catalogue_maximum(catalogue: PlanCatalogue) -> int:
    return max((p.max_sessions for p in catalogue.plans.values()), default=35)


def sort_overview(figures: Iterable[InstanceFigures]) -> list[InstanceFigures]:
    """Most urgent first; within a status, more time over the limit, more excess, more denials first."""
    return sorted(
        figures,
        key=lambda f: (
            STATUS_ORDER.index(f.status),
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
        extra_sessions_total=extra_total,
        monthly_revenue=revenue,
        priced_partially=bool(priced) and len(priced) < len(needing),
    )


def policy_facts(policy: Policy) -> PolicyFacts:
    return PolicyFacts(
        idle_timeout_min=policy.idle_timeout.total_seconds() / 60,
        expiries=tuple(sorted((flow, d.total_seconds() / 60) for flow, d in policy.absolute_expiry.items())),
        uncounted_user_types=tuple(sorted(policy.uncounted_user_types)),
    )


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
                   r["denials"], r["sessions"], r["distinct_users"], r["distinct_devices"])
        )
    steps: dict[str, list[tuple[datetime, datetime, int, int | None]]] = defaultdict(list)
    for r in rows(con, "report/steps", params):
        steps[r["instance"]].append((r["step_start"], r["step_end"], r["seats_in_use"], r["seat_limit"]))
    heat: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for r in rows(con, "report/heatmap", params):
        heat[r["instance"]].append((r["weekday"], r["hour"], r["peak_seats"]))
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
            )
            for b in breaches[instance]
        )
        q = quality.get(instance, {})
        rj = rejects.get(instance, {})
        first_ts, last_ts = data_range
        first_day = first_ts.astimezone(zone).date() if first_ts else None
        last_day = last_ts.astimezone(zone).date() if last_ts else None
        partial = first_day is None or first_day > f.period.first_day or last_day is None or last_day < f.period.last_day
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
                partial=partial,
            ),
            policy=policy,
            series=SeriesData(tuple(steps[instance]), tuple(heat[instance])),
            evidence_file=f"{f.period.key}-breaches.csv" if rows_ else None,
        )
    return out
