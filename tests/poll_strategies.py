"""Generated polled data: true sessions, random poll schedules, and what the view listed.

Each polled instance has TRUE sessions (start, end, requests, an optional absolute
expiry, the collector's own session; an old server gives no SessionId). A schedule of
polls (a regular grid with jitter, failed polls, an outage, extra polls) samples
them: a poll at t lists exactly the sessions with start <= t < end, as the view does.
Every true session has a Login row in the audit log (so the ones that lived wholly
between two polls are known), and some logins were refused. The rows go into the
warehouse the way ingest stores them (polls deduped by instance and polled_at,
audit-log rows by Id), widening pending_audit by the instants they speak of.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import hypothesis.strategies as st
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.policy import DEFAULT_POLICY
from auditor.state import Span
from auditor.tables import AUDIT_LOG, POLLED_SESSIONS, POLLS, Table
from auditor.warehouse import Transaction, Warehouse

COLLECTOR_USER = "auditor-collector"
COLLECTOR_APP = "ERP.net auditor collector"
ENTITY_SET = "Systems_Monitoring_CurrentSessions"
IDLE = DEFAULT_POLICY.idle_timeout
INTERVAL = DEFAULT_POLICY.poll_interval


@dataclass
class TrueSession:
    instance: str
    session_id: str | None
    user: str
    start: datetime
    end: datetime
    app: str = "ERP.net Web Client"
    device: str | None = None
    requests: list[datetime] = field(default_factory=list)
    absolute_expiry: datetime | None = None
    login_id: str = ""
    #: the audit log's Login time less StartTime: a few seconds early at most (a login up to 5 s off still
    #: matches the polled session; a later one would leave an unseen session's start after the true one)
    login_offset: timedelta = timedelta(0)
    #: False: the view drops its LastRequestTime (null, compact mode)
    shows_requests: bool = True
    #: (from, to, n): n requests in progress at once (CurrentRequestsCount) over [from, to); else none
    busy: list[tuple[datetime, datetime, int]] = field(default_factory=list)

    @property
    def collector(self) -> bool:
        return self.user == COLLECTOR_USER and self.app == COLLECTOR_APP


@dataclass
class Polled:
    """One instance's truth and what was observed of it."""

    truth: list[TrueSession]
    #: each poll with the rows it listed, in arrival order, repeats included
    observations: list[tuple[dict, list[dict]]]
    audit_log: list[dict]


def view_rows(truth: list[TrueSession], instance: str, t: datetime) -> list[dict]:
    """What Systems_Monitoring_CurrentSessions lists at T: the sessions with start <= t < end."""
    out = []
    for s in truth:
        if s.start <= t < s.end:
            done = [r for r in s.requests if r <= t]
            out.append(
                {
                    "instance": instance,
                    "polled_at": t,
                    "session_id": s.session_id,
                    "user": s.user,
                    "start_time": s.start,
                    "last_request_time": max(done) if done and s.shows_requests else None,
                    "absolute_expiration_time": s.absolute_expiry,
                    "applications": s.app,
                    "device": s.device,
                    "current_requests": max((n for a, b, n in s.busy if a <= t < b), default=0),
                }
            )
    return out


def poll_record(instance: str, t: datetime, rows: list[dict] | None) -> dict:
    """A row of `polls`: ROWS listed at T, or None for a failed poll."""
    return {"instance": instance, "polled_at": t, "ok": rows is not None,
            "error": None if rows is not None else "HTTP 503 Service Unavailable",
            "listed": None if rows is None else len(rows), "collector_user": COLLECTOR_USER,
            "collector_application": COLLECTOR_APP, "entity_set": ENTITY_SET}


def poll(instance: str, t: datetime, truth: list[TrueSession], ok: bool = True) -> tuple[dict, list[dict]]:
    rows = view_rows(truth, instance, t) if ok else None
    return poll_record(instance, t, rows), rows or []


@st.composite
def true_sessions(draw, instance: str, base: datetime, hours: int = 3) -> list[TrueSession]:
    """Sessions over [base, base + HOURS): users start at distinct minutes (so a login matches one session only)."""
    old_server = draw(st.booleans())
    out: list[TrueSession] = []
    minutes = draw(st.lists(st.integers(0, hours * 60 - 1), min_size=1, max_size=8, unique=True))
    for n, minute in enumerate(sorted(minutes)):
        user = draw(st.sampled_from(["ann", "bob", "cy", "dee"]))
        start = base + timedelta(minutes=minute, seconds=draw(st.sampled_from([0, 0, 7, 31])))
        requests = []
        t = start
        for _ in range(draw(st.integers(0, 4))):
            t += timedelta(minutes=draw(st.sampled_from([1, 3, 5, 12, 19])), seconds=draw(st.integers(0, 59)))
            requests.append(t)
        # a session ends by logout or time-out: at most the idle timeout after its latest activity
        end = max([start, *requests]) + draw(st.sampled_from([timedelta(seconds=40), timedelta(minutes=4), timedelta(minutes=11), IDLE]))
        expiry = None
        if draw(st.integers(0, 3)) == 0:  # a service application: its session expires an hour after it opened
            expiry = start + timedelta(hours=1)
            end = min(end, expiry)
            requests = [r for r in requests if r < end]
        out.append(TrueSession(instance, None if old_server else f"{instance}-{n}", user, start, end,
                               app="Sync service" if expiry else "ERP.net Web Client",
                               device=draw(st.sampled_from(["LAPTOP-7", "PC-2", None])), requests=requests,
                               absolute_expiry=expiry, login_id=f"{instance}-L{n}",
                               login_offset=timedelta(seconds=-draw(st.sampled_from([0, 0, 0, 1, 5]))),
                               shows_requests=draw(st.integers(0, 5)) > 0,
                               busy=draw(busy_windows(start, end))))
    # the collector's own session, alive while it polls
    out.append(TrueSession(instance, None if old_server else f"{instance}-collector", COLLECTOR_USER, base,
                           base + timedelta(hours=hours + 1), app=COLLECTOR_APP, login_id=f"{instance}-Lc"))
    return out


@st.composite
def busy_windows(draw, start: datetime, end: datetime) -> list[tuple[datetime, datetime, int]]:
    """Stretches of a session with several requests in progress at once (usually none)."""
    out = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        a = start + timedelta(minutes=draw(st.integers(0, 60)))
        out.append((a, min(end, a + timedelta(minutes=draw(st.sampled_from([4, 11, 16, 40])))), draw(st.integers(1, 3))))
    return out


@st.composite
def schedules(draw, base: datetime, hours: int = 4) -> list[tuple[datetime, bool]]:
    """(polled_at, ok) in random order: every INTERVAL with jitter, some failed, an outage, extras and repeats."""
    polls = []
    outage = draw(st.one_of(st.none(), st.tuples(st.integers(0, hours * 12), st.integers(3, 30))))
    step = draw(st.sampled_from([INTERVAL, INTERVAL, INTERVAL, timedelta(minutes=2), timedelta(minutes=17)]))
    t = base + timedelta(seconds=draw(st.integers(0, 299)))
    n = 0
    while t < base + timedelta(hours=hours + 1):
        if outage is None or not (outage[0] <= n < outage[0] + outage[1]):
            polls.append((t, draw(st.integers(0, 9)) > 0))
        t += step + timedelta(milliseconds=draw(st.integers(-20_000, 20_000)))
        n += 1
    extra = draw(st.lists(st.integers(0, (hours + 1) * 3600 * 1000), max_size=4))
    polls += [(base + timedelta(milliseconds=ms), True) for ms in extra]
    polls += draw(st.lists(st.sampled_from(polls), max_size=3)) if polls else []  # the same poll again
    return draw(st.permutations(polls))


def observe(instance: str, truth: list[TrueSession], schedule: list[tuple[datetime, bool]],
            refused: list[datetime] = ()) -> Polled:
    """INSTANCE's TRUTH as the polls of SCHEDULE saw it, its logins and the REFUSED ones in the audit log."""
    observations = [poll(instance, t, truth, ok) for t, ok in schedule]
    log = [{"instance": instance, "id": s.login_id, "event_time": s.start + s.login_offset, "event_class": "Authentication",
            "event_type": "Login", "application_name": s.app, "details": None, "user": s.user} for s in truth]
    for n, t in enumerate(refused):
        details = "MaximumLicenseCountExceeded" if n % 3 else "WrongPassword"
        log.append({"instance": instance, "id": f"{instance}-F{n}", "event_time": t, "event_class": "Authentication",
                    "event_type": "LoginFailed", "application_name": "ERP.net Web Client",
                    "details": f"Login failed: {details}", "user": "eve"})
    return Polled(truth, observations, log)


@st.composite
def polled_instances(draw, instances=("p1", "p2"), base: datetime | None = None) -> dict[str, Polled]:
    base = base or draw(st.sampled_from([datetime(2026, 10, 24, 18, tzinfo=timezone.utc),
                                         datetime(2026, 11, 2, 7, tzinfo=timezone.utc)]))
    out = {}
    for inst in draw(st.lists(st.sampled_from(list(instances)), min_size=1, max_size=len(instances), unique=True)):
        truth = draw(true_sessions(inst, base))
        refused = [base + timedelta(seconds=s) for s in draw(st.lists(st.integers(0, 5 * 3600), max_size=3))]
        out[inst] = observe(inst, truth, draw(schedules(base)), refused)
    return out


def stored(observations: list[tuple[dict, list[dict]]]) -> tuple[list[dict], list[dict]]:
    """The polls and rows a warehouse holds once OBSERVATIONS are ingested: the first of each (instance, polled_at)."""
    first: dict[tuple, tuple[dict, list[dict]]] = {}
    for p, rows in observations:
        first.setdefault((p["instance"], p["polled_at"]), (p, rows))
    return [p for p, _ in first.values()], [r for _, rows in first.values() for r in rows]


def all_stored(polled: dict[str, Polled]) -> tuple[list[dict], list[dict], list[dict]]:
    """POLLED as the warehouse holds it: polls, rows, audit-log rows."""
    polls, rows = stored([o for d in polled.values() for o in d.observations])
    return polls, rows, [e for d in polled.values() for e in d.audit_log]


def add_polled(wh: Warehouse, observations: list[tuple[dict, list[dict]]], audit_log: list[dict]) -> None:
    """What ingest does with snapshot lines: drop polls and audit-log rows already stored (or repeated), merge the
    rest into the UTC-date partitions, widen pending_audit from the earliest instant they speak of (StartTime
    included) to the latest."""
    with wh.transaction() as tx:
        con = wh.connect()
        try:
            have_polls = set(con.sql("SELECT instance, polled_at FROM polls").fetchall()) if tx.partitions("polls") else set()
            have_ids = set(con.sql("SELECT instance, id FROM audit_log").fetchall()) if tx.partitions("audit_log") else set()
        finally:
            con.close()
        new_polls, new_rows = stored([o for o in observations if (o[0]["instance"], o[0]["polled_at"]) not in have_polls])
        new_log = list({(e["instance"], e["id"]): e for e in reversed(audit_log)
                        if (e["instance"], e["id"]) not in have_ids}.values())
        for table, column, data in ((POLLS, "polled_at", new_polls), (POLLED_SESSIONS, "polled_at", new_rows),
                                    (AUDIT_LOG, "event_time", new_log)):
            _merge(tx, table, column, data)
        spans: dict[str, Span] = {}
        for inst, first, last in ([(p["instance"], p["polled_at"], p["polled_at"]) for p in new_polls]
                                  + [(r["instance"], r["start_time"], r["polled_at"]) for r in new_rows]
                                  + [(e["instance"], e["event_time"], e["event_time"]) for e in new_log]):
            span = Span(first, last)
            spans[inst] = spans[inst].widened(span) if inst in spans else span
        tx.state.add_pending(spans)


def _merge(tx: Transaction, table: Table, column: str, data: list[dict]) -> None:
    by_date: dict[str, list[dict]] = defaultdict(list)
    for row in data:
        by_date[table.partitioning.key(row[column])].append({f: row.get(f) for f in table.columns})
    current = tx.partitions(table.name)
    for key, rows in by_date.items():
        new = pa.Table.from_pylist(rows, schema=table.schema)
        if key in current:
            new = pa.concat_tables([pq.read_table(current[key]).cast(table.schema), new])
        tx.write(table.name, key, new)


def true_seats(truth: list[TrueSession], t: datetime) -> int:
    """The true number of counted seats in use at T (the collector's own session never counts)."""
    return sum(1 for s in truth if not s.collector and s.start <= t < s.end)


def true_points(truth: list[TrueSession]) -> list[datetime]:
    return sorted({s.start for s in truth} | {s.end for s in truth})

