"""Hand-made, internally consistent audit tables for the report tests.

The report reads the audit's tables; these helpers derive every table from a
few sessions, denials and entitlements with plain loops (the same definitions
as issue 3), so that a test states its input in a few lines and its expected
figures follow from them. Test data, not a stand-in for the engine: the golden
tests render the engine's own tables from sample_data.

Bounds (issue 11): a session's ``end`` is its latest possible end and ``end_min``
its earliest (the same for a log's session, the default). The upper bound counts
a session on [start, end), the lower on [start, end_min); for log data every
``_min`` column equals its twin, every breach is certain and coverage is 1.0.
A polled instance's sessions have ``source="poll"``; the stretches its polls
observed (within the polling interval of a successful poll) go in
``Data.observed``, which gives daily_coverage, and its gaps in ``Data.gaps``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from auditor.tables import TABLES
from auditor.warehouse import Warehouse

UTC = timezone.utc
BASE = {"small-business-basic": 3, "small-business-advanced": 5}
MAXIMUM = 35


def utc(text: str) -> datetime:
    """'2026-10-05 09:00' (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Ent:
    instance: str
    plan: str = "small-business-basic"
    extra: int = 0
    valid_from: date = date(2026, 1, 1)
    valid_to: date | None = None
    tz: str = "UTC"
    customer: str | None = "Acme Ltd"
    account_manager: str | None = "Ann Manager <ann@example.com>"

    @property
    def limit(self) -> int:
        return BASE[self.plan] + self.extra

    def bounds(self) -> tuple[datetime, datetime | None]:
        zone = ZoneInfo(self.tz)
        start = datetime.combine(self.valid_from, time(0), tzinfo=zone).astimezone(UTC)
        end = None if self.valid_to is None else datetime.combine(self.valid_to, time(0), tzinfo=zone).astimezone(UTC)
        return start, end


@dataclass
class Sess:
    instance: str
    session_id: str
    start: datetime
    end: datetime
    user: str | None = "user"
    device: str | None = "pc"
    app: str | None = "web"
    seats: int = 1
    user_type: str | None = "INT"
    counted: bool = True
    end_reason: str = "logout"
    start_inferred: bool = False
    segment: int = 1
    #: The earliest possible end (None: ``end``, as for every session of a log).
    end_min: datetime | None = None
    #: log | poll
    source: str = "log"
    uncounted_reason: str | None = None

    @property
    def lower_end(self) -> datetime:
        return self.end if self.end_min is None else self.end_min


@dataclass
class Data:
    entitlements: list[Ent] = field(default_factory=list)
    sessions: list[Sess] = field(default_factory=list)
    denials: list[tuple[str, datetime]] = field(default_factory=list)
    #: Instances with events but no entitlement.
    unlicensed: list[str] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)
    #: coverage_gaps rows: (instance, gap_start, gap_end), consecutive successful polls that far apart.
    gaps: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    #: polls rows: (instance, polled_at, ok).
    polls: list[tuple[str, datetime, bool]] = field(default_factory=list)
    #: (instance, start, end): stretches within the polling interval of a successful poll.
    observed: list[tuple[str, datetime, datetime]] = field(default_factory=list)


def _tz(data: Data, instance: str) -> str:
    return next((e.tz for e in data.entitlements if e.instance == instance), "UTC")


def _limit_at(data: Data, instance: str, t: datetime) -> Ent | None:
    for e in data.entitlements:
        if e.instance != instance:
            continue
        start, end = e.bounds()
        if start <= t and (end is None or t < end):
            return e
    return None


Step = tuple[datetime, datetime, int, int, int | None]


def usage_steps(data: Data, instance: str) -> list[Step]:
    """Maximal constant pieces of (seats in use, its lower bound, seat limit) from the first to the last change."""
    counted = [s for s in data.sessions if s.instance == instance and s.counted and s.end > s.start]
    points = {s.start for s in counted} | {s.end for s in counted} | {s.lower_end for s in counted}
    if not points:
        return []
    lo, hi = min(points), max(points)
    for e in data.entitlements:
        if e.instance == instance:
            for b in e.bounds():
                if b is not None and lo < b < hi:
                    points.add(b)
    times = sorted(points)
    pieces: list[Step] = []
    for a, b in zip(times, times[1:]):
        seats = sum(s.seats for s in counted if s.start <= a < s.end)
        seats_min = sum(s.seats for s in counted if s.start <= a < s.lower_end)
        ent = _limit_at(data, instance, a)
        limit = ent.limit if ent else None
        if pieces and pieces[-1][2:] == (seats, seats_min, limit) and pieces[-1][1] == a:
            pieces[-1] = (pieces[-1][0], b, seats, seats_min, limit)
        else:
            pieces.append((a, b, seats, seats_min, limit))
    return pieces


def breaches(steps: list[Step]) -> list[dict]:
    """Maximal stretches over the limit by the upper bound; certain where the lower bound is over it too."""
    out = []
    for a, b, seats, seats_min, limit in steps:
        over = limit is not None and seats > limit
        certain_s = (b - a).total_seconds() if over and seats_min > limit else 0.0
        if over and out and out[-1]["breach_end"] == a:
            cur = out[-1]
            cur["breach_end"] = b
            if seats > cur["peak_seats"]:
                cur["peak_seats"], cur["peak_at"] = seats, a
            cur["max_excess"] = max(cur["max_excess"], seats - limit)
            cur["seat_limit"] = limit
            cur["certain_seconds"] += certain_s
        elif over:
            out.append({"breach_start": a, "breach_end": b, "peak_seats": seats, "peak_at": a,
                        "seat_limit": limit, "max_excess": seats - limit, "certain_seconds": certain_s})
    for br in out:
        br["duration_s"] = (br["breach_end"] - br["breach_start"]).total_seconds()
        br["certain"] = br["certain_seconds"] > 0
    return out


def _overlap(a: datetime, b: datetime, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(b, hi) - max(a, lo)).total_seconds())


def daily(data: Data, instance: str, steps: list[Step], brs: list[dict]) -> list[dict]:
    zone = ZoneInfo(_tz(data, instance))
    counted = [s for s in data.sessions if s.instance == instance and s.counted and s.end > s.start]
    days = {s.start.astimezone(zone).date() for s in counted} | {(s.end - timedelta(microseconds=1)).astimezone(zone).date() for s in counted}
    days |= {t.astimezone(zone).date() for i, t in data.denials if i == instance}
    if not days:
        return []
    out = []
    d = min(days)
    while d <= max(days):
        lo = datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)
        hi = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        inside = [(max(a, lo), seats, seats_min) for a, b, seats, seats_min, _l in steps if a < hi and b > lo]
        peak = max((x[1] for x in inside), default=0)
        peak_at = min((x[0] for x in inside if x[1] == peak), default=None) if peak > 0 else None
        end_ent = _limit_at(data, instance, hi - timedelta(microseconds=1))
        day_sessions = [s for s in counted if s.start < hi and s.end > lo]
        certain = [br for br in brs if br["certain"]]
        out.append({
            "instance": instance, "day": d, "peak_seats": peak, "peak_at": peak_at,
            "seat_limit": end_ent.limit if end_ent else None,
            "seconds_over_limit": sum(_overlap(a, b, lo, hi) for a, b, s, _m, l in steps if l is not None and s > l),
            "seconds_at_limit": sum(_overlap(a, b, lo, hi) for a, b, s, _m, l in steps if s > 0 and s == l),
            "seconds_unlicensed": sum(_overlap(a, b, lo, hi) for a, b, s, _m, l in steps if s > 0 and l is None),
            "breach_count": sum(1 for br in brs if lo <= br["breach_start"] < hi),
            "in_breach_at_start": any(br["breach_start"] < lo < br["breach_end"] for br in brs),
            "denials": sum(1 for i, t in data.denials if i == instance and lo <= t < hi),
            "sessions": len(day_sessions),
            "distinct_users": len({s.user for s in day_sessions if s.user}),
            "distinct_devices": len({s.device for s in day_sessions if s.device}),
            "peak_seats_min": max((x[2] for x in inside), default=0),
            "seconds_over_limit_min": sum(_overlap(a, b, lo, hi) for a, b, _s, m, l in steps if l is not None and m > l),
            "certain_breach_count": sum(1 for br in certain if lo <= br["breach_start"] < hi),
            "in_certain_breach_at_start": any(br["breach_start"] < lo < br["breach_end"] for br in certain),
        })
        d += timedelta(days=1)
    return out


def levels(data: Data, instance: str, steps: list[Step]) -> list[dict]:
    """daily_levels: per local day, the microseconds at each number of seats in use above zero (the upper bound)."""
    zone = ZoneInfo(_tz(data, instance))
    at: dict[tuple[date, int], int] = defaultdict(int)
    for a, b, seats, _min, _limit in steps:
        d = a.astimezone(zone).date()
        while seats > 0 and datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC) < b:
            lo = datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)
            hi = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            at[(d, seats)] += (min(b, hi) - max(a, lo)) // timedelta(microseconds=1)
            d += timedelta(days=1)
    return [{"instance": instance, "day": d, "seats_in_use": seats, "in_use_us": us} for (d, seats), us in sorted(at.items())]


def daily_coverage(data: Data, instance: str) -> list[dict]:
    """daily_coverage: per local day, the seconds of ``Data.observed`` in it (rows for polled instances only)."""
    zone = ZoneInfo(_tz(data, instance))
    covered: dict[date, float] = defaultdict(float)
    for i, a, b in data.observed:
        d = a.astimezone(zone).date()
        while i == instance and datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC) < b:
            lo = datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)
            hi = datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            covered[d] += _overlap(a, b, lo, hi)
            d += timedelta(days=1)
    return [{"instance": instance, "day": d, "covered_seconds": s} for d, s in sorted(covered.items())]


def coverage(data: Data, instance: str, lo: datetime, hi: datetime) -> float:
    """The share of [lo, hi) the polls observed; 1.0 for an instance without polls."""
    if not any(i == instance for i, _a, _b in data.observed):
        return 1.0
    return sum(_overlap(a, b, lo, hi) for i, a, b in data.observed if i == instance) / (hi - lo).total_seconds()


def instances_of(data: Data) -> list[str]:
    return sorted({s.instance for s in data.sessions} | {e.instance for e in data.entitlements} | set(data.unlicensed))


def build(root: Path, data: Data) -> Warehouse:
    """A warehouse holding DATA's events and the audit tables derived from it."""
    wh = Warehouse.open(root, create=True)
    tables: dict[str, list[dict]] = defaultdict(list)
    all_times = [s.start for s in data.sessions] + [s.end for s in data.sessions] + [t for _, t in data.denials]
    period_start, period_end = min(all_times), max(all_times)
    for e in data.entitlements:
        start, end = e.bounds()
        tables["entitlements"].append({
            "instance": e.instance, "customer": e.customer, "plan": e.plan, "extra_sessions": e.extra,
            "seat_limit": e.limit, "plan_maximum": MAXIMUM, "valid_from": e.valid_from, "valid_to": e.valid_to,
            "timezone": e.tz, "account_manager": e.account_manager, "valid_from_ts": start, "valid_to_ts": end,
            "source_line": 2,
        })
    for s in data.sessions:
        tables["sessions"].append({
            "instance": s.instance, "session_id": s.session_id, "segment": s.segment, "user": s.user,
            "user_type": s.user_type, "device": s.device, "app": s.app, "auth_flow": None, "seats": s.seats,
            "counted": s.counted, "start_ts": s.start, "end_ts": s.end, "end_reason": s.end_reason,
            "start_inferred": s.start_inferred, "end_ts_min": s.lower_end, "source": s.source,
            "uncounted_reason": s.uncounted_reason or (None if s.counted else f"user type {s.user_type}"),
        })
        if s.source == "log":
            for kind, t in (("login", s.start), ("logout", s.end)):
                tables["events"].append({"ts": t, "instance": s.instance, "event": kind, "session_id": s.session_id,
                                         "seats": s.seats, "user": s.user})
    for instance, t, ok in data.polls:
        tables["polls"].append({"instance": instance, "polled_at": t, "ok": ok, "error": None if ok else "HTTP 503",
                                "listed": 0 if ok else None, "entity_set": "Systems_Monitoring_CurrentSessions"})
    for instance, a, b in data.gaps:
        tables["coverage_gaps"].append({"instance": instance, "gap_start": a, "gap_end": b,
                                        "duration_s": (b - a).total_seconds()})
    for instance, t in data.denials:
        tables["events"].append({"ts": t, "instance": instance, "event": "login_failed", "seats": 1,
                                 "reason": "MaximumLicenseCountExceeded"})
    for n, raw in enumerate(data.rejects, 1):
        tables["rejects"].append({"run_id": "r1", "file": "logs.jsonl", "line": n, "reason": "bad line", "raw": raw})
    for instance in instances_of(data):
        steps = usage_steps(data, instance)
        brs = breaches(steps)
        for a, b, seats, seats_min, limit in steps:
            tables["usage_steps"].append({"instance": instance, "step_start": a, "step_end": b,
                                          "seats_in_use": seats, "seats_in_use_min": seats_min, "seat_limit": limit})
        for br in brs:
            tables["breaches"].append({"instance": instance, **br})
        days = daily(data, instance, steps, brs)
        tables["daily_usage"].extend(days)
        tables["daily_levels"].extend(levels(data, instance, steps))
        tables["daily_coverage"].extend(daily_coverage(data, instance))
        ents = [e for e in data.entitlements if e.instance == instance]
        last = ents[-1] if ents else None
        peak = max((s[2] for s in steps), default=0)
        peak_min = max((s[3] for s in steps), default=0)
        certain = sum(1 for b in brs if b["certain"])
        status = ("unlicensed" if not last else "beyond_plan_maximum" if peak_min > MAXIMUM else
                  "breach" if certain else "possible_breach" if brs else "compliant")
        tables["instance_summary"].append({
            "instance": instance, "customer": last.customer if last else None, "plan": last.plan if last else None,
            "timezone": last.tz if last else "UTC", "period_start": period_start, "period_end": period_end,
            "seat_limit": last.limit if last else None, "plan_maximum": MAXIMUM if last else None,
            "peak_seats": peak, "peak_at": min((s[0] for s in steps if s[2] == peak), default=None) if peak else None,
            "p95_seats": peak, "seconds_in_use": sum((b - a).total_seconds() for a, b, s, _m, _l in steps if s > 0),
            "seconds_over_limit": sum(b["duration_s"] for b in brs),
            "seconds_unlicensed": sum((b - a).total_seconds() for a, b, s, _m, l in steps if s > 0 and l is None),
            "breach_count": len(brs), "denials": sum(d["denials"] for d in days),
            "limit_reached": any(s == l for _a, _b, s, _m, l in steps),
            "status": status,
            "recommended_seat_limit": peak, "recommended_extra_sessions": None if not last else max(0, peak - BASE[last.plan]),
            "fits_plan_maximum": peak <= MAXIMUM,
            "peak_seats_min": peak_min,
            "seconds_over_limit_min": sum(d["seconds_over_limit_min"] for d in days),
            "certain_breach_count": certain,
            "coverage": coverage(data, instance, period_start, period_end),
            "findings": 0, "peak_seats_implied": peak,
        })
    with wh.transaction() as tx:
        for table, records in tables.items():
            schema = TABLES[table].schema
            columns = {f.name: [r.get(f.name) for r in records] for f in schema}
            tx.write(table, "all", pa.table(columns, schema=schema))
    return wh


XSS = "<img src=x onerror=alert(1)>"


def standard_data() -> Data:
    """Four instances covering every status of the overview, in October 2026.

    - acme (Europe/Sofia, basic 3, then 4 from 15 Oct): two breaches; one denial;
      a breach on 30 Sep that lies outside October; a user with a hostile name.
    - calm (advanced 5): one long session, compliant.
    - full (basic 3): exactly at its limit once.
    - lost: events but no entitlement (unlicensed).
    - huge (basic + 30 = 33): peak 40, beyond the plan maximum of 35.
    """
    d = Data()
    d.entitlements += [
        Ent("acme.my.erp.net", tz="Europe/Sofia", valid_to=date(2026, 10, 15)),
        Ent("acme.my.erp.net", tz="Europe/Sofia", valid_from=date(2026, 10, 15), extra=1),
        Ent("calm.my.erp.net", customer="Calm & Co", plan="small-business-advanced", account_manager="bob@example.com"),
        Ent("full.my.erp.net", customer="Full Ltd", tz="America/New_York"),
        Ent("huge.my.erp.net", customer="Huge Corp", extra=30),
    ]
    # 30 Sep 2026 in Sofia: four sessions over a limit of 3 (outside October).
    for i in range(4):
        d.sessions.append(Sess("acme.my.erp.net", f"sep{i}", utc("2026-09-30 06:00"), utc("2026-09-30 07:00"), user=f"sep{i}"))
    # 5 Oct: five staggered sessions against 3 -> one breach 08:30-11:00 UTC, peak 5 at 08:40.
    for i in range(5):
        d.sessions.append(Sess("acme.my.erp.net", f"s{i}", utc("2026-10-05 08:00") + timedelta(minutes=10 * i), utc("2026-10-05 11:00"), user=f"u{i}", device=f"d{i}"))
    # 20 Oct: one external application with 5 seats against 4 -> one hour over.
    d.sessions.append(Sess("acme.my.erp.net", "x", utc("2026-10-20 08:00"), utc("2026-10-20 09:00"), user=XSS, device="srv", app="Robot", seats=5, end_reason="idle_timeout"))
    d.sessions.append(Sess("acme.my.erp.net", "v", utc("2026-10-21 08:00"), utc("2026-10-21 09:00"), user="bot", user_type="VIR", counted=False))
    d.denials.append(("acme.my.erp.net", utc("2026-10-05 09:00")))
    d.sessions.append(Sess("calm.my.erp.net", "c1", utc("2026-10-01 06:00"), utc("2026-10-31 09:00"), start_inferred=True, end_reason="open"))
    for i in range(3):
        d.sessions.append(Sess("full.my.erp.net", f"f{i}", utc("2026-10-12 14:00"), utc("2026-10-12 15:00"), user=f"f{i}"))
    d.denials.append(("full.my.erp.net", utc("2026-10-12 14:30")))
    d.denials.append(("full.my.erp.net", utc("2026-10-13 14:30")))
    d.sessions.append(Sess("lost.my.erp.net", "l1", utc("2026-10-02 08:00"), utc("2026-10-02 09:00")))
    d.unlicensed.append("lost.my.erp.net")
    d.sessions.append(Sess("huge.my.erp.net", "h", utc("2026-10-07 10:00"), utc("2026-10-07 10:30"), seats=40, app="Integrator"))
    d.rejects += ['{"instance":"acme.my.erp.net", broken', "garbage"]
    return d


def polled_data() -> Data:
    """Two instances observed by polls every 5 minutes, in October 2026 (Europe/Berlin, basic 3).

    - poll: 6 Oct, four sessions, each seen until a poll and gone five minutes later: at least 4 in use
      09:30-10:00 UTC, at most 4 until 10:05, a certain breach of 30 to 35 minutes. 8 Oct, three sessions
      seen until 09:00 and gone at 09:05, and two logins of the audit log at 09:01 and 09:02 that no poll
      saw: at most 5 in use 09:02-09:05, a possible breach of 4 minutes (at most 4 from 09:01). So the
      peak lies between 4 and 5; its collector's own session is not counted. Gaps without a successful
      poll: 7 Oct 12:00-14:30 and 9 Oct 08:00-08:20 UTC.
    - maybe: only 8 Oct's possible breach: status possible_breach, peak between 3 and 5.
    """
    d = Data()
    for name in ("poll.my.erp.net", "maybe.my.erp.net"):
        d.entitlements.append(Ent(name, tz="Europe/Berlin", customer=f"{name.split('.')[0].title()} GmbH"))
    poll, maybe = "poll.my.erp.net", "maybe.my.erp.net"
    for i, start in enumerate(("09:00", "09:10", "09:20", "09:30")):
        seen = ("11:00", "11:00", "10:30", "10:00")[i]
        d.sessions.append(Sess(poll, f"p{i}", utc(f"2026-10-06 {start}"), utc(f"2026-10-06 {seen}") + timedelta(minutes=5),
                               user=f"p{i}", end_min=utc(f"2026-10-06 {seen}"), source="poll", end_reason="vanished"))
    for name in (poll, maybe):
        for i in range(3):
            d.sessions.append(Sess(name, f"q{i}", utc("2026-10-08 08:00"), utc("2026-10-08 09:05"), user=f"q{i}",
                                   end_min=utc("2026-10-08 09:00"), source="poll", end_reason="vanished"))
        for i, at in enumerate(("09:01", "09:02")):
            d.sessions.append(Sess(name, f"login:{i}", utc(f"2026-10-08 {at}"), utc("2026-10-08 09:05"), user=f"late{i}",
                                   device=None, end_min=utc(f"2026-10-08 {at}"), source="poll", end_reason="unseen"))
        d.polls += [(name, utc("2026-10-08 09:00"), True), (name, utc("2026-10-08 09:05"), True)]
    d.sessions.append(Sess(poll, "collector", utc("2026-10-06 08:00"), utc("2026-10-06 12:00"), user="auditor-collector",
                           app="ERP.net auditor collector", counted=False, uncounted_reason="collector",
                           source="poll", end_reason="vanished"))
    d.polls.append((poll, utc("2026-10-07 12:05"), False))
    d.gaps += [(poll, utc("2026-10-07 12:00"), utc("2026-10-07 14:30")), (poll, utc("2026-10-09 08:00"), utc("2026-10-09 08:20"))]
    # Polled all month (Berlin): all but the gaps' stretches farther than 5 minutes from their polls.
    month = (utc("2026-09-30 22:00"), utc("2026-10-31 23:00"))
    d.observed += [(maybe, *month), (poll, month[0], utc("2026-10-07 12:05")),
                   (poll, utc("2026-10-07 14:25"), utc("2026-10-09 08:05")), (poll, utc("2026-10-09 08:15"), month[1])]
    return d
