"""The true sessions of a polled instance, and what its polls and audit log saw of them.

:func:`simulate` plays one instance's month event by event in time order, the
way its server would: people's requests open sessions (or are refused when
the server is full), a sliding 20-minute idle timeout or a logout ends them,
service applications' sessions expire one hour after they open, a restart ends
them all, and the auditor's collector opens its own one-hour session at the
polls. :func:`poll_lines` then turns the result into the lines a collector
writes: the ``CurrentSessions`` view at every poll (failed polls as errors, an
outage as no lines, an old server's naming before its upgrade) and the audit
log's authentication rows read once an hour.

Behaviour comes from the same :class:`~auditor.generate.fleet.InstanceSpec` as
the event-log generator (office hours in the instance's time zone, casual
sessions, service jobs, restarts, the server's refusal threshold); how it is
polled comes from a :class:`PollPlan`. All times are whole milliseconds, so a
view's ``StartTime`` is the true start exactly. Deterministic: Python's
``random.Random`` with a given seed, and only its stable methods.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from auditor.generate import names, plants
from auditor.generate.activity import APPS, CONNECTOR_APP, DESKTOP_APP, MOBILE_APP, SERVICE_APP, WEB_APP
from auditor.generate.fleet import InstanceSpec
from auditor.generate.snapshots import (
    COLLECTOR,
    LOGIN,
    LOGIN_FAILED,
    LOGOUT,
    REFUSAL_DETAILS,
    AuditEvent,
    TrueSession,
    audit_log_line,
    poll_line,
    view_rows,
)

IDLE_TIMEOUT = timedelta(minutes=20)
#: A client-credentials session (a service's, the collector's) ends this long after it opens.
SERVICE_LIFETIME = timedelta(hours=1)
#: The audit log is read at the first successful poll this long after the last read.
AUDIT_EVERY = timedelta(hours=1)
#: What a failed poll's line says: a server or network error.
POLL_ERRORS = ("HTTP 503 Service Unavailable", "HTTP 429 Too Many Requests", "timeout after 30 s", "HTTP 502 Bad Gateway")
#: A poll the full server refused: the collector could not open its session.
REFUSED_POLL = "HTTP 500 MaximumLicenseCountExceeded"
# Servers older than this name the user `User` and have no SessionId.
OLD_SERVER_VERSION = "26.1.3.9"

UTC = timezone.utc


@dataclass(frozen=True)
class PollPlan:
    """How one instance is polled over [start, end)."""

    start: datetime
    end: datetime
    every: timedelta
    #: Each poll comes up to this late (uniformly), to the millisecond.
    jitter: timedelta = timedelta(seconds=15)
    #: Chance that a poll fails with a server or network error.
    failure_rate: float = 0.004
    #: No poll at all in [outage start, outage end): the collector was down.
    outage: tuple[datetime, datetime] | None = None
    #: The server is older than 26.1.4.3 until this instant, when it is upgraded (and restarts).
    old_server_until: datetime | None = None


@dataclass
class Poll:
    at: datetime
    #: Why it failed (None: it listed the view).
    error: str | None = None


@dataclass
class Simulation:
    """What happened on one instance: true sessions, audit rows, restarts, polls."""

    instance: str
    plan: PollPlan
    sessions: list[TrueSession]
    audit: list[AuditEvent]
    restarts: list[datetime]
    polls: list[Poll]
    #: What was planted (``auditor.generate.plants.plant_parallel``), each at least once.
    planted: tuple[str, ...] = ()


# The service applications' users (a client-credentials application user each).
_SERVICE_USERS = (("webshop-sync", APPS[CONNECTOR_APP]), ("payroll-sync", APPS[SERVICE_APP]))

# Kinds of event, in the order they are played when they fall on the same instant.
_RESTART, _LOGOUT, _REQUEST, _POLL = range(4)


@dataclass
class _Actor:
    """Someone who holds at most one session at a time: a person, a service, the collector."""

    user: str
    application: str
    device: str | None
    service: bool = False
    uncounted: bool = False
    open: _Open | None = None
    #: Requests before this instant are dropped (the person waits after a refusal).
    retry_at: datetime | None = None


#: Plans one event: at an instant, of a kind, by an actor (None for a restart).
_Add = Callable[..., None]


@dataclass
class _Open:
    actor: _Actor
    session_id: str
    start: datetime
    requests: list[datetime] = field(default_factory=list)

    def deadline(self) -> datetime:
        """When it ends unless something else comes first: idle timeout, or the service's absolute expiry."""
        idle = (self.requests[-1] if self.requests else self.start) + IDLE_TIMEOUT
        return min(idle, self.start + SERVICE_LIFETIME) if self.actor.service else idle


def simulate(spec: InstanceSpec, plan: PollPlan, seed: int) -> Simulation:
    """Play SPEC's sessions and PLAN's polls (see the module doc)."""
    rng = random.Random(seed)
    zone = ZoneInfo(spec.timezone)
    events: list[tuple[datetime, int, int, _Actor | None]] = []
    order = iter(range(1 << 62))  # keeps ties in the order events were planned

    def add(at: datetime, kind: int, actor: _Actor | None = None) -> None:
        events.append((at, kind, next(order), actor))

    first = plan.start.astimezone(zone).date() - timedelta(days=1)
    last = plan.end.astimezone(zone).date()
    local_days = [first + timedelta(days=d) for d in range((last - first).days + 1)]
    desks = [_desk_actor(i, rng) for i in range(spec.desk_users)]
    casuals = [_Actor(names.user_name(spec.desk_users + i), APPS[MOBILE_APP], f"{names.MOBILE_DEVICES[i % 4]}-{i + 1}")
               for i in range(max(spec.casual_users, 1))]
    services = [
        _Actor(*_SERVICE_USERS[k], None, service=True) if k < len(_SERVICE_USERS)
        else _Actor(f"svc-job-{k + 1}", APPS[SERVICE_APP], None, service=True)
        for k in range(len(spec.services))
    ]
    for day in local_days:
        weekday = day.weekday() < 5
        for actor in desks:
            if weekday and rng.random() > 0.08:
                _plan_desk_day(actor, day, zone, rng, add)
        if weekday:
            for _ in range(_poisson(rng, spec.casual_rate)):
                _plan_casual(rng.choice(casuals), day, zone, rng, add)
        for actor, (hour, hours, every) in zip(services, spec.services):
            t = _local(day, hour, zone)
            stop = t + timedelta(hours=hours)
            while t < stop:
                add(t, _REQUEST, actor)
                t += timedelta(minutes=every) + _ms(rng.uniform(-5, 5))
        if rng.random() < spec.restart_rate:
            add(_local(day, rng.uniform(1.0, 4.5), zone), _RESTART)
    for day_index, hour in spec.restarts:
        add(_local(plan.start.date() + timedelta(days=day_index), hour, zone), _RESTART)
    if plan.old_server_until is not None:
        add(plan.old_server_until, _RESTART)
    polls = _poll_schedule(plan, rng)
    collector = _Actor(*COLLECTOR, None, service=True, uncounted=True)
    for poll in polls:
        if poll.error is None:
            add(poll.at, _POLL, collector)
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    sessions: list[TrueSession] = []
    audit: list[AuditEvent] = []
    restarts: list[datetime] = []
    alive: list[_Open] = []
    poll_at = {p.at: p for p in polls}

    def close(o: _Open, end: datetime) -> None:
        alive.remove(o)
        o.actor.open = None
        sessions.append(
            TrueSession(
                session_id=o.session_id,
                user=o.actor.user,
                start=o.start,
                end=end,
                request_times=tuple(o.requests),
                device=o.actor.device,
                applications=o.actor.application,
                absolute_expiration=o.start + SERVICE_LIFETIME if o.actor.service else None,
                uncounted=o.actor.uncounted,
            )
        )

    def audit_row(at: datetime, kind: str, actor: _Actor, details: str | None = None) -> None:
        audit.append(AuditEvent(str(uuid.UUID(int=rng.getrandbits(128))), at, kind, actor.user, actor.application, details))

    for at, kind, _, actor in events:
        for o in [o for o in alive if o.deadline() <= at]:
            close(o, o.deadline())
        if kind == _RESTART:
            restarts.append(at)
            for o in list(alive):
                close(o, at)
            continue
        assert actor is not None
        if kind == _LOGOUT:
            if actor.open is not None:
                audit_row(at, LOGOUT, actor)
                close(actor.open, at)
            continue
        if actor.open is None:
            # A person waits a few minutes after a refusal; the collector tries again at its next poll.
            if kind != _POLL and actor.retry_at is not None and at < actor.retry_at:
                continue
            limit = spec.seat_limit(at.astimezone(zone).date())
            if spec.enforce_excess is not None and limit is not None and len(alive) >= limit + spec.enforce_excess:
                audit_row(at, LOGIN_FAILED, actor, REFUSAL_DETAILS)
                actor.retry_at = at + _ms(rng.uniform(120, 420))
                if kind == _POLL:
                    poll_at[at].error = REFUSED_POLL
                continue
            actor.open = _Open(actor, uuid.UUID(int=rng.getrandbits(128)).hex, at)
            alive.append(actor.open)
            audit_row(at, LOGIN, actor)
        actor.open.requests.append(at)
    for o in list(alive):
        close(o, o.deadline())
    # The days around the period were played so that it starts and ends mid-stream; keep what falls in it.
    sessions = sorted((s for s in sessions if s.end > plan.start and s.start < plan.end), key=lambda s: (s.start, s.session_id))
    audit = [e for e in audit if plan.start <= e.at < plan.end]
    restarts = [r for r in restarts if plan.start <= r < plan.end]
    sessions, planted = plants.plant_parallel(spec.plant, sessions, polls, zone, rng)
    return Simulation(spec.name, plan, sessions, audit, restarts, polls, planted)


def _desk_actor(i: int, rng: random.Random) -> _Actor:
    prefix = names.DESKTOP_PREFIXES[i % len(names.DESKTOP_PREFIXES)]
    app = APPS[DESKTOP_APP] if rng.random() < 0.6 else APPS[WEB_APP]
    return _Actor(names.user_name(i), app, f"{prefix}-{i + 1:02d}")


def _plan_desk_day(actor: _Actor, day: date, zone: ZoneInfo, rng: random.Random, add: _Add) -> None:
    """A working day: morning and afternoon around lunch (long enough to time out), now and then a meeting."""
    arrive = _local(day, 8.0 + rng.uniform(0, 1.5), zone)
    lunch = _local(day, 12.0 + rng.uniform(-0.3, 0.7), zone)
    back = lunch + _ms(rng.uniform(30, 60) * 60)
    leave = _local(day, 16.5 + rng.uniform(0, 1.5), zone)
    for a, b, logout_chance in ((arrive, lunch, 0.3), (back, leave, 0.6)):
        t = a
        while t < b:
            add(t, _REQUEST, actor)
            # Mostly a request every few minutes; now and then a meeting long enough to time out.
            pause = rng.uniform(25, 50) * 60 if rng.random() < 0.004 else rng.expovariate(1 / 150)
            t += _ms(pause + 1)
        if rng.random() < logout_chance:
            add(t, _LOGOUT, actor)


def _plan_casual(actor: _Actor, day: date, zone: ZoneInfo, rng: random.Random, add: _Add) -> None:
    """A short look from a phone: a minute or a few, often closed with a logout."""
    t = _local(day, 7.0 + rng.random() * 12.0, zone)
    stop = t + _ms(rng.uniform(40, 360))
    while t < stop:
        add(t, _REQUEST, actor)
        t += _ms(rng.uniform(8, 45))
    if rng.random() < 0.7:
        add(t, _LOGOUT, actor)


def _poll_schedule(plan: PollPlan, rng: random.Random) -> list[Poll]:
    polls = []
    jitter_ms = int(plan.jitter / timedelta(milliseconds=1))
    t = plan.start
    while t < plan.end:
        at = t + timedelta(milliseconds=rng.randrange(jitter_ms + 1))
        t += plan.every
        if plan.outage is not None and plan.outage[0] <= at < plan.outage[1]:
            continue
        error = rng.choice(POLL_ERRORS) if rng.random() < plan.failure_rate else None
        polls.append(Poll(at, error))
    return polls


def poll_lines(sim: Simulation) -> Iterator[tuple[datetime, str]]:
    """Every line the collector wrote, as (polled_at, line), in time order."""
    plan = sim.plan
    by_start = iter(sim.sessions)
    pending = next(by_start, None)
    listed: list[TrueSession] = []
    audit = sorted(sim.audit, key=lambda e: (e.at, e.id))
    read_to = 0  # audit rows before this index have been read
    last_read = plan.start
    for poll in sim.polls:
        while pending is not None and pending.start <= poll.at:
            listed.append(pending)
            pending = next(by_start, None)
        listed = [s for s in listed if s.end > poll.at]
        if poll.error is not None:
            yield poll.at, poll_line(sim.instance, poll.at, error=poll.error)
            continue
        old = plan.old_server_until is not None and poll.at < plan.old_server_until
        yield poll.at, poll_line(sim.instance, poll.at, view_rows(listed, poll.at, old_server=old))
        if poll.at - last_read >= AUDIT_EVERY:
            # The audit log is read just after the view: every row since the last read.
            stop = read_to
            while stop < len(audit) and audit[stop].at < poll.at:
                stop += 1
            read_at = poll.at + timedelta(milliseconds=700)
            yield read_at, audit_log_line(sim.instance, read_at, audit[read_to:stop])
            read_to, last_read = stop, poll.at


def _local(day: date, hour: float, zone: ZoneInfo) -> datetime:
    """DAY at HOUR on the local wall clock, as a UTC instant to the millisecond."""
    naive = datetime.combine(day, time()) + timedelta(milliseconds=round(hour * 3_600_000))
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _ms(seconds: float) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by counting exponential gaps (random.Random has no Poisson)."""
    count, total = 0, rng.expovariate(1.0) if mean > 0 else 1.0
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count
