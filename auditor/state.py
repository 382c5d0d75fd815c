"""What the stages leave each other, committed in the warehouse's manifest with their data.

Each stage commits atomically; what a later stage still owes is recorded in the
same commit as the data that makes it owed, so a run killed anywhere leaves the
work for the next one:

- ``pending_audit`` — written by ingest with the events, cleared by the audit
  with its results: per instance, the span of new events whose audit is due;
- ``audit`` and ``audit_inputs`` — written by each audit: its settings and
  policy, what the next incremental audit needs to know, and the hashes (and the
  plan catalogue's text) of the files it used;
- ``reports_owed`` — written with the audit's results, cleared with the nightly
  run record once the reports are rendered;
- ``reports_rendered`` — what the last complete render covered;
- ``breaches_unannounced`` — new breaches no finished nightly run has counted.

``PipelineState`` is the typed form; the manifest stores it as JSON (``meta``)
through ``to_json``/``from_json``, the only code that knows that form.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from auditor.policy import Policy


@dataclass(frozen=True)
class Span:
    """The first and last instant of some events."""

    first: datetime
    last: datetime

    def widened(self, other: Span) -> Span:
        return Span(min(self.first, other.first), max(self.last, other.last))


@dataclass(frozen=True)
class AuditSettings:
    """The period [period_from, period_to) of instance_summary (local days; None: the data's) and
    how much time over the limit the recommendation may leave."""

    period_from: date | None = None
    period_to: date | None = None
    tolerance: timedelta = timedelta(0)


@dataclass(frozen=True)
class AuditRecord:
    """What an audit committed: how it judged, and what the next incremental audit needs."""

    settings: AuditSettings
    policy: Policy
    #: auditor.audit.ENGINE_VERSION of the engine that wrote the tables
    engine: int
    #: the latest event time it saw (a segment whose deadline lies beyond it is 'open')
    max_ts: datetime
    #: the longest segment, in microseconds (how far back a segment covering an instant can start)
    max_segment_us: int
    #: the sessions partitions holding 'open' segments (to relabel once newer data arrives)
    open_partitions: tuple[str, ...]
    finished_at: datetime


@dataclass(frozen=True)
class AuditInputs:
    """The files the audit judged with: their SHA-256, and the plan catalogue's text (reports show its prices)."""

    entitlements_sha256: str | None = None
    plans_sha256: str | None = None
    plans_toml: str | None = None


@dataclass(frozen=True)
class ReportsOwed:
    """The instances whose reports are out of date (EVERYTHING: every report)."""

    everything: bool = False
    instances: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return self.everything or bool(self.instances)

    def adding(self, instances: Iterable[str], *, everything: bool = False) -> ReportsOwed:
        return ReportsOwed(self.everything or everything, self.instances | frozenset(instances))


@dataclass(frozen=True)
class ReportsRendered:
    """What the last complete render covered: its folder, the default period of each time zone,
    and the version of the rule that names instance folders."""

    dir: str
    periods: Mapping[str, str]
    file_names: int


@dataclass
class PipelineState:
    pending_audit: dict[str, Span] = field(default_factory=dict)
    audit: AuditRecord | None = None
    audit_inputs: AuditInputs = field(default_factory=AuditInputs)
    reports_owed: ReportsOwed = field(default_factory=ReportsOwed)
    reports_rendered: ReportsRendered | None = None
    breaches_unannounced: frozenset[tuple[str, datetime]] = frozenset()
    #: (instance, kind, day, session_id, user) of new findings no finished nightly run has counted
    findings_unannounced: frozenset[tuple[str, str, date, str, str]] = frozenset()

    def copy(self) -> PipelineState:
        return copy.deepcopy(self)

    def add_pending(self, spans: Mapping[str, Span]) -> None:
        """Widen ``pending_audit`` by SPANS (new events per instance)."""
        for instance, span in spans.items():
            old = self.pending_audit.get(instance)
            self.pending_audit[instance] = span if old is None else old.widened(span)

    # -- the manifest's JSON ---------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.pending_audit:
            out["pending_audit"] = {
                name: [span.first.isoformat(), span.last.isoformat()] for name, span in sorted(self.pending_audit.items())
            }
        if self.audit is not None:
            a = self.audit
            out["audit"] = {
                "period_from": a.settings.period_from.isoformat() if a.settings.period_from else None,
                "period_to": a.settings.period_to.isoformat() if a.settings.period_to else None,
                "tolerance_s": a.settings.tolerance.total_seconds(),
                "policy": _policy_to_json(a.policy),
                "engine": a.engine,
                "max_ts": a.max_ts.isoformat(),
                "max_segment_us": a.max_segment_us,
                "open_partitions": list(a.open_partitions),
                "finished_at": a.finished_at.isoformat(timespec="seconds"),
            }
        inputs = {k: v for k, v in vars(self.audit_inputs).items() if v is not None}
        if inputs:
            out["audit_inputs"] = inputs
        if self.reports_owed:
            out["reports_pending"] = {"all": self.reports_owed.everything, "instances": sorted(self.reports_owed.instances)}
        if self.reports_rendered is not None:
            r = self.reports_rendered
            out["reports_rendered"] = {"dir": r.dir, "periods": dict(sorted(r.periods.items())), "file_names": r.file_names}
        if self.breaches_unannounced:
            out["breaches_unannounced"] = [[name, start.isoformat()] for name, start in sorted(self.breaches_unannounced)]
        if self.findings_unannounced:
            out["findings_unannounced"] = [[name, kind, day.isoformat(), sid, user]
                                           for name, kind, day, sid, user in sorted(self.findings_unannounced)]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PipelineState:
        """The state a manifest's ``meta`` holds; keys it lacks (or an older version's form) read as nothing owed."""
        state = cls()
        for name, (first, last) in (data.get("pending_audit") or {}).items():
            state.pending_audit[name] = Span(_instant(first), _instant(last))
        audit = data.get("audit")
        if isinstance(audit, Mapping) and "max_ts" in audit:
            state.audit = AuditRecord(
                settings=AuditSettings(
                    date.fromisoformat(audit["period_from"]) if audit.get("period_from") else None,
                    date.fromisoformat(audit["period_to"]) if audit.get("period_to") else None,
                    timedelta(seconds=float(audit.get("tolerance_s") or 0)),
                ),
                policy=_policy_from_json(audit.get("policy")),
                engine=int(audit.get("engine") or 0),
                max_ts=_instant(audit["max_ts"]),
                max_segment_us=int(audit.get("max_segment_us") or 0),
                open_partitions=tuple(audit.get("open_partitions") or ()),
                finished_at=_instant(audit.get("finished_at") or audit["max_ts"]),
            )
        inputs = data.get("audit_inputs") or {}
        state.audit_inputs = AuditInputs(inputs.get("entitlements_sha256"), inputs.get("plans_sha256"), inputs.get("plans_toml"))
        owed = data.get("reports_pending") or {}
        state.reports_owed = ReportsOwed(bool(owed.get("all")), frozenset(owed.get("instances") or ()))
        rendered = data.get("reports_rendered")
        if isinstance(rendered, Mapping) and "dir" in rendered:
            state.reports_rendered = ReportsRendered(
                str(rendered["dir"]), dict(rendered.get("periods") or {}), int(rendered.get("file_names") or 0)
            )
        state.breaches_unannounced = frozenset(
            (str(name), _instant(start)) for name, start in data.get("breaches_unannounced") or ()
        )
        state.findings_unannounced = frozenset(
            (str(name), str(kind), date.fromisoformat(day), str(sid), str(user))
            for name, kind, day, sid, user in data.get("findings_unannounced") or ()
        )
        return state


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _policy_to_json(policy: Policy) -> dict[str, Any]:
    return {
        "idle_timeout_s": policy.idle_timeout.total_seconds(),
        "absolute_expiry_s": {flow: d.total_seconds() for flow, d in sorted(policy.absolute_expiry.items())},
        "uncounted_user_types": sorted(policy.uncounted_user_types),
        "poll_interval_s": policy.poll_interval.total_seconds(),
        "login_match_s": policy.login_match.total_seconds(),
        "parallel_min_requests": policy.parallel_min_requests,
        "parallel_min_polls": policy.parallel_min_polls,
        "cycling_gap_s": policy.cycling_gap.total_seconds(),
        "cycling_min_cycles": policy.cycling_min_cycles,
    }


def _policy_from_json(data: Any) -> Policy:
    if not isinstance(data, Mapping):
        return Policy()  # audited before the policy was recorded: the defaults were the only policy
    return Policy(
        idle_timeout=timedelta(seconds=float(data["idle_timeout_s"])),
        absolute_expiry={flow: timedelta(seconds=float(s)) for flow, s in data["absolute_expiry_s"].items()},
        uncounted_user_types=frozenset(data["uncounted_user_types"]),
        poll_interval=timedelta(seconds=float(data.get("poll_interval_s", Policy.poll_interval.total_seconds()))),
        login_match=timedelta(seconds=float(data.get("login_match_s", Policy.login_match.total_seconds()))),
        parallel_min_requests=int(data.get("parallel_min_requests", Policy.parallel_min_requests)),
        parallel_min_polls=int(data.get("parallel_min_polls", Policy.parallel_min_polls)),
        cycling_gap=timedelta(seconds=float(data.get("cycling_gap_s", Policy.cycling_gap.total_seconds()))),
        cycling_min_cycles=int(data.get("cycling_min_cycles", Policy.cycling_min_cycles)),
    )
