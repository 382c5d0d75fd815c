"""The typed data each template receives: what a report and the overview show.

Nothing here computes a figure or applies a licensing rule: the verdict on a
period (status, peak, time over the limit, breaches, the recommended limit)
comes from queries/audit/verdict.sql, the rest from queries/report/*.sql, and
auditor/report/build.py fills these classes from their rows. ``TEMPLATE_CONTEXT``
lists the keys each page receives; a test checks that the templates use no other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from auditor.findings import FINDING_KINDS
from auditor.report.period import Period

#: Most urgent first: the overview's order, and the words for each status. What is certain
#: (a breach, too many sessions for the plan, no licence) comes before what polls cannot tell.
STATUS_ORDER = ("breach", "beyond_plan_maximum", "unlicensed", "possible_breach", "at_limit", "compliant")
STATUS_LABELS = {
    "breach": "In breach",
    "beyond_plan_maximum": "Beyond plan maximum",
    "unlicensed": "Unlicensed",
    "possible_breach": "Possible breach",
    "at_limit": "At the limit",
    "compliant": "Compliant",
}


def seats_range(low: int, high: int) -> str:
    """``7``, or ``6–7`` when polls leave a number of seats between two bounds."""
    return f"{low}\u2013{high}" if low < high else str(high)


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
    #: Sessions to add to the current limit (0 unless add_sessions).
    extra_sessions: int
    current_limit: int | None
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
    #: The breaches overlapping the period.
    breach_count: int
    denials: int
    #: The verdict's status: compliant | possible_breach | breach | beyond_plan_maximum | unlicensed.
    audit_status: str
    #: Seats in use (the upper bound) equalled the limit in force at some instant of the period.
    limit_reached: bool
    recommendation: Recommendation
    #: The lower bounds of peak_seats and seconds_over_limit (equal to them for log data), and the
    #: breaches among breach_count in which the lower bound too was over the limit.
    peak_seats_min: int
    seconds_over_limit_min: float
    certain_breach_count: int
    #: The share of the period within the polling interval of a successful poll (1.0 for logs).
    coverage: float
    #: Whether the period's data comes (at least partly) from polls of the instance's live sessions.
    polled: bool
    #: Licence-term findings of the period, and the peak had their sessions been counted as the
    #: licence says (peak_seats when there is none).
    findings: int
    peak_seats_implied: int
    #: Why the name could mislead a reader (mixed scripts, invisible characters, another
    #: audited instance that looks the same: ``auditor.names``); None for most names.
    name_note: str | None = None

    @property
    def status(self) -> str:
        """The status shown: the verdict's, with a compliant period that reached its limit set apart."""
        return "at_limit" if self.audit_status == "compliant" and self.limit_reached else self.audit_status

    @property
    def compliant(self) -> bool:
        return self.audit_status == "compliant"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def possible_breach_count(self) -> int:
        return self.breach_count - self.certain_breach_count

    @property
    def implied_peak_differs(self) -> bool:
        """Counted as the licence says, the findings' sessions would have made the peak higher."""
        return self.peak_seats_implied > self.peak_seats

    @property
    def peak_range(self) -> str:
        """``7``, or ``6–7`` when the polls leave the peak between two bounds (the overview's cell)."""
        return seats_range(self.peak_seats_min, self.peak_seats)

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
    #: The lower bound too was over the limit in it (always for log data), and for how long.
    certain: bool
    certain_seconds: float

    @property
    def sessions_seats(self) -> int:
        return sum(s.seats for s in self.sessions)


@dataclass(frozen=True)
class FindingRow:
    """One licence-term finding (a row of the findings table) overlapping the period."""

    kind: str
    session_id: str
    user: str | None
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    seats_implied: int
    peak_seats_implied: int
    evidence: str

    @property
    def title(self) -> str:
        return FINDING_KINDS[self.kind][0]

    @property
    def term(self) -> str:
        return FINDING_KINDS[self.kind][1]


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
    #: The lower bound of peak_seats (equal to it for log data).
    peak_seats_min: int

    @property
    def peak_range(self) -> str:
        return seats_range(self.peak_seats_min, self.peak_seats)


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
    #: Polled sessions: those seen only as a login in the audit log (between two polls), and those
    #: that vanished from the polls (ended by a logout, a time-out or a restart: the polls cannot tell).
    unseen_logins: int
    vanished: int


@dataclass(frozen=True)
class Gap:
    """A stretch between two successful polls more than twice the polling interval apart (local times)."""

    start: datetime
    end: datetime
    duration_s: float


@dataclass(frozen=True)
class Polling:
    """How a polled instance was observed in the period (the footnote's facts)."""

    #: The usual interval between two polls (the audit's policy).
    interval_s: float
    #: Gaps overlapping the period, and the longest few of them, longest first.
    gap_count: int
    longest_gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class PolicyFacts:
    idle_timeout_min: float
    expiries: tuple[tuple[str, float], ...]
    uncounted_user_types: tuple[str, ...]
    poll_interval_s: float


@dataclass(frozen=True)
class Step:
    """One piece of the step function of seats in use: constant upper and lower bound and limit."""

    start: datetime
    end: datetime
    seats: int
    seat_limit: int | None
    seats_min: int


@dataclass(frozen=True)
class SeriesData:
    """What the charts draw (not shown as text)."""

    steps: tuple[Step, ...]
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
    #: How the instance was polled in the period; None when its data are connection logs only.
    polling: Polling | None
    #: The licence-term findings shown (the most seats implied first), and how many more there are.
    findings: tuple[FindingRow, ...]
    hidden_findings: int

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
    #: Instances whose polls leave it open whether they breached (status possible_breach).
    instances_possibly_in_breach: int
    extra_sessions_total: int
    #: The monthly price of the recommended add-ons, when every one has a known price.
    monthly_revenue: float | None
    priced_partially: bool
    #: Some row's figures are bounds (a polled instance): the overview says how to read them.
    has_bounds: bool
    #: Instances with licence-term findings in their period.
    instances_with_findings: int


#: The keys each page receives (the contract between this module and templates/).
TEMPLATE_CONTEXT: dict[str, dict[str, type | str]] = {
    "report.html": {"report": ReportContext, "charts": "dict[str, ChartImage] (seats, daily, heatmap)"},
    "report.txt": {"report": ReportContext},
    "index.html": {"overview": OverviewContext},
}
