"""A plain, obviously correct Python reference of the audit: session rules and sweep.

No DuckDB, no polars: loops and sorted lists, written straight from the rules in
the README ("Session rules", with the rules for polled data). The property tests
require the engine to produce exactly these rows. Quadratic where that keeps it obvious.
Every session carries an interval for the upper bound [start_ts, end_ts) and one for
the lower bound [start_ts, end_ts_min); for a log's segment the two are the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from auditor.policy import DEFAULT_POLICY, Policy

ORDER = {"login": 0, "request": 1, "logout": 2}
US = timedelta(microseconds=1)


@dataclass
class Ent:
    instance: str
    valid_from_ts: datetime
    valid_to_ts: datetime | None
    seat_limit: int
    timezone: str
    customer: str | None = None
    plan: str = "small-business-basic"
    plan_maximum: int = 35
    extra_sessions: int = 0


def first_value(events: list[dict], key: str):
    """The first non-empty value in (ts, event order) order; ties -> the smallest value."""
    found = [(e["ts"], ORDER[e["event"]], e[key]) for e in events if e.get(key) is not None]
    return min(found)[2] if found else None


def build_sessions(events: list[dict], policy: Policy = DEFAULT_POLICY, later: datetime | None = None) -> list[dict]:
    """The segments of the connection-log EVENTS. LATER: the latest time of the warehouse's other data
    (polls, audit-log entries), which rule 5's "latest event time" includes."""
    if not events:
        return []
    max_ts = max([e["ts"] for e in events] + ([later] if later else []))
    restarts: dict[str, list[datetime]] = defaultdict(list)
    sessions: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in events:
        if e["event"] == "restart":
            restarts[e["instance"]].append(e["ts"])
        elif e["event"] in ORDER:
            sessions[(e["instance"], e["session_id"])].append(e)
    out = []
    for (instance, sid), evs in sorted(sessions.items()):
        evs.sort(key=lambda e: (e["ts"], ORDER[e["event"]]))
        seats = max(e["seats"] for e in evs)
        attrs = {k: first_value(evs, k) for k in ("user", "user_type", "device", "app", "auth_flow")}
        expiry = policy.expiry_for(attrs["auth_flow"])
        inst_restarts = sorted(restarts[instance])

        def deadline(seg: dict) -> tuple[datetime, str]:
            options = [(seg["last"] + policy.idle_timeout, 0, "idle_timeout")]
            if expiry is not None:
                options.append((seg["start"] + expiry, 1, "absolute_expiry"))
            later = [r for r in inst_restarts if r > seg["start"]]
            if later:
                options.append((later[0], 2, "restart"))
            when, _, why = min(options)
            return when, why

        segments: list[dict] = []
        cur: dict | None = None
        for e in evs:
            if cur is not None:
                when, why = deadline(cur)
                if e["ts"] >= when:
                    cur.update(end=when, reason=why)
                    segments.append(cur)
                    cur = None
            if e["event"] in ("login", "request"):
                if cur is None:
                    cur = {"start": e["ts"], "last": e["ts"], "inferred": e["event"] == "request"}
                else:
                    cur["last"] = e["ts"]
            elif cur is not None:  # a logout ends the open segment
                cur.update(end=e["ts"], reason="logout")
                segments.append(cur)
                cur = None
        if cur is not None:
            when, why = deadline(cur)
            cur.update(end=when, reason="open" if when > max_ts else why)
            segments.append(cur)
        counted = policy.counts(attrs["user_type"])
        for n, seg in enumerate(segments, 1):
            out.append(
                {
                    "instance": instance,
                    "session_id": sid,
                    "segment": n,
                    **attrs,
                    "seats": seats,
                    "counted": counted,
                    "start_ts": seg["start"],
                    "end_ts": seg["end"],
                    "end_reason": seg["reason"],
                    "start_inferred": seg["inferred"],
                    "last_activity_ts": seg["last"],
                    "end_ts_min": seg["end"],
                    "source": "log",
                    "uncounted_reason": None if counted else f"user type {attrs['user_type']}",
                }
            )
    return out


# --- polled data: sessions from snapshots of the live-sessions view -------------------

POLL_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def poll_identity(row: dict) -> str:
    """Rule 1: SessionId; on old servers user|StartTime|Device|Applications (NULL -> '')."""
    if row["session_id"] is not None:
        return row["session_id"]
    start = row["start_time"].astimezone(timezone.utc).strftime(POLL_TIME_FORMAT)
    return "|".join(v or "" for v in (row["user"], start, row["device"], row["applications"]))


def build_polled_sessions(polls: list[dict], rows: list[dict], audit_log: list[dict],
                          policy: Policy = DEFAULT_POLICY) -> list[dict]:
    """Rules 1-4 for polled data: one session per identity seen by a successful poll, then the unseen logins."""
    out = []
    instances = sorted({p["instance"] for p in polls} | {r["instance"] for r in audit_log})
    for inst in instances:
        ok = {p["polled_at"]: p for p in polls if p["instance"] == inst and p["ok"]}
        ok_times = sorted(ok)
        collectors = {p["collector_user"] for p in polls if p["instance"] == inst and p["collector_user"] is not None}
        # the (user, application) pairs the instance's polls name as the collector's own
        own = {(p["collector_user"], p["collector_application"]) for p in polls
               if p["instance"] == inst and p["collector_user"] is not None}
        listed: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            if r["instance"] == inst and r["polled_at"] in ok:
                listed[poll_identity(r)].append(r)
        polled = []
        for sid, seen in sorted(listed.items()):
            seen.sort(key=lambda r: r["polled_at"])
            latest = seen[-1]
            collector = (latest["user"], latest["applications"]) in own
            start = min(min(r["start_time"] for r in seen), seen[0]["polled_at"])
            last_seen = latest["polled_at"]
            later = [t for t in ok_times if t > last_seen]
            expiries = [r["absolute_expiration_time"] for r in seen if r["absolute_expiration_time"] is not None]
            abs_exp = max(expiries) if expiries else None
            requests = [r["last_request_time"] for r in seen if r["last_request_time"] is not None]
            last_activity = max(requests) if requests else None
            if later:
                nxt = later[0]
                end = nxt if abs_exp is None else min(nxt, abs_exp)
                reason = "absolute_expiry" if abs_exp is not None and abs_exp <= nxt else "vanished"
            else:
                end = (last_activity or start) + policy.idle_timeout
                if abs_exp is not None:
                    end = min(end, abs_exp)
                reason = "open"
            polled.append(
                {
                    "instance": inst,
                    "session_id": sid,
                    "segment": 1,
                    "user": latest["user"],
                    "user_type": None,
                    "device": latest["device"],
                    "app": latest["applications"],
                    "auth_flow": None,
                    "seats": 1,
                    "counted": not collector,
                    "start_ts": start,
                    "end_ts": max(last_seen, end),
                    "end_reason": reason,
                    "start_inferred": False,
                    "last_activity_ts": last_activity,
                    "end_ts_min": last_seen,
                    "source": "poll",
                    "uncounted_reason": "collector" if collector else None,
                }
            )
        unseen = []
        for e in audit_log:
            if e["instance"] != inst or e["event_type"] != "Login" or e["user"] is None or e["user"] in collectors:
                continue
            t = e["event_time"]
            if any(s["user"] == e["user"] and abs(s["start_ts"] - t) <= policy.login_match for s in polled):
                continue
            # it may have begun up to login_match after the logged login: a poll in between may miss it
            later = [p for p in ok_times if p > t + policy.login_match]
            # with no later poll it ends at its idle deadline, 'open' as a polled session's would
            unseen.append(
                {
                    "instance": inst,
                    "session_id": f"login:{e['id']}",
                    "segment": 1,
                    "user": e["user"],
                    "user_type": None,
                    "device": None,
                    "app": e["application_name"],
                    "auth_flow": None,
                    "seats": 1,
                    "counted": True,
                    "start_ts": t,
                    "end_ts": later[0] if later else t + policy.idle_timeout,
                    "end_reason": "unseen" if later else "open",
                    "start_inferred": False,
                    "last_activity_ts": t,
                    "end_ts_min": t,
                    "source": "poll",
                    "uncounted_reason": None,
                }
            )
        out.extend(polled + unseen)
    return out


def poll_denials(audit_log: list[dict]) -> list[dict]:
    """Rule 5 for polled data: LoginFailed rows naming MaximumLicenseCountExceeded, as (instance, ts)."""
    return [{"instance": e["instance"], "ts": e["event_time"]} for e in audit_log
            if e["event_type"] == "LoginFailed" and "MaximumLicenseCountExceeded" in (e["details"] or "")]


def coverage_gaps(polls: list[dict], policy: Policy = DEFAULT_POLICY) -> list[dict]:
    """Consecutive successful polls of an instance more than twice the polling interval apart."""
    out = []
    for inst in sorted({p["instance"] for p in polls}):
        times = sorted({p["polled_at"] for p in polls if p["instance"] == inst and p["ok"]})
        for a, b in zip(times, times[1:]):
            if b - a > 2 * policy.poll_interval:
                out.append({"instance": inst, "gap_start": a, "gap_end": b, "duration_s": (b - a).total_seconds()})
    return out


def daily_coverage(polls: list[dict], ents: list[Ent], policy: Policy = DEFAULT_POLICY) -> list[dict]:
    """Per polled instance and local day with any, the seconds within the polling interval of a successful poll."""
    out = []
    for inst in sorted({p["instance"] for p in polls}):
        tz = instance_timezone(ents, inst)
        islands: list[list[datetime]] = []
        for t in sorted({p["polled_at"] for p in polls if p["instance"] == inst and p["ok"]}):
            if islands and t - policy.poll_interval <= islands[-1][1]:
                islands[-1][1] = t + policy.poll_interval
            else:
                islands.append([t - policy.poll_interval, t + policy.poll_interval])
        days: dict[date, timedelta] = defaultdict(timedelta)
        for a, b in islands:
            d = local_day(a, tz)
            while d <= local_day(b - US, tz):
                d0, d1 = day_bounds(d, tz)
                days[d] += min(b, d1) - max(a, d0)
                d += timedelta(days=1)
        out.extend({"instance": inst, "day": d, "covered_seconds": days[d].total_seconds()} for d in sorted(days))
    return out


# --- the sweep: seats in use (both bounds), breaches, days ------------------------------

def limit_at(ents: list[Ent], instance: str, t: datetime) -> int | None:
    for e in ents:
        if e.instance == instance and e.valid_from_ts <= t and (e.valid_to_ts is None or t < e.valid_to_ts):
            return e.seat_limit
    return None


def seats_at(sessions: list[dict], instance: str, t: datetime) -> tuple[int, int]:
    """(upper, lower): the seats of the counted sessions whose [start_ts, end_ts) / [start_ts, end_ts_min) hold T."""
    mine = [s for s in sessions if s["instance"] == instance and s["counted"]]
    return (sum(s["seats"] for s in mine if s["start_ts"] <= t < s["end_ts"]),
            sum(s["seats"] for s in mine if s["start_ts"] <= t < s["end_ts_min"]))


def usage_steps(sessions: list[dict], ents: list[Ent]) -> list[dict]:
    """Maximal pieces of constant (seats_in_use, seats_in_use_min, seat_limit) with seats_in_use > 0."""
    out = []
    instances = sorted({s["instance"] for s in sessions})
    for inst in instances:
        segs = [s for s in sessions if s["instance"] == inst and s["counted"] and s["end_ts"] > s["start_ts"]]
        points = {s["start_ts"] for s in segs} | {s["end_ts"] for s in segs} | {s["end_ts_min"] for s in segs}
        for e in ents:
            if e.instance == inst:
                points.add(e.valid_from_ts)
                if e.valid_to_ts is not None:
                    points.add(e.valid_to_ts)
        points_sorted = sorted(points)
        pieces = []
        for a, b in zip(points_sorted, points_sorted[1:]):
            level, level_min = seats_at(segs, inst, a)
            limit = limit_at(ents, inst, a)
            last = pieces[-1] if pieces else None
            if last and last["step_end"] == a and (last["seats_in_use"], last["seats_in_use_min"], last["seat_limit"]) == (level, level_min, limit):
                last["step_end"] = b
            else:
                pieces.append({"instance": inst, "step_start": a, "step_end": b, "seats_in_use": level,
                               "seat_limit": limit, "seats_in_use_min": level_min})
        out.extend(p for p in pieces if p["seats_in_use"] > 0)
    return out


def over(step: dict, key: str = "seats_in_use") -> bool:
    return step["seat_limit"] is not None and step[key] > step["seat_limit"]


def breaches(steps: list[dict]) -> list[dict]:
    groups: list[list[dict]] = []
    for s in filter(over, steps):
        if groups and groups[-1][-1]["instance"] == s["instance"] and groups[-1][-1]["step_end"] == s["step_start"]:
            groups[-1].append(s)
        else:
            groups.append([s])
    out = []
    for g in groups:
        peak = max(s["seats_in_use"] for s in g)
        at = next(s for s in g if s["seats_in_use"] == peak)
        certain = [s for s in g if over(s, "seats_in_use_min")]
        out.append(
            {
                "instance": g[0]["instance"],
                "breach_start": g[0]["step_start"],
                "breach_end": g[-1]["step_end"],
                "duration_s": (g[-1]["step_end"] - g[0]["step_start"]).total_seconds(),
                "peak_seats": peak,
                "peak_at": at["step_start"],
                "seat_limit": at["seat_limit"],
                "max_excess": max(s["seats_in_use"] - s["seat_limit"] for s in g),
                "certain": bool(certain),
                "certain_seconds": sum((s["step_end"] - s["step_start"] for s in certain), timedelta(0)).total_seconds(),
            }
        )
    return out


def instance_timezone(ents: list[Ent], instance: str) -> str:
    rows = sorted((e for e in ents if e.instance == instance), key=lambda e: e.valid_from_ts)
    return rows[-1].timezone if rows else "UTC"


def local_day(t: datetime, tz: str) -> date:
    return t.astimezone(ZoneInfo(tz)).date()


def day_bounds(d: date, tz: str) -> tuple[datetime, datetime]:
    z = ZoneInfo(tz)
    nxt = d + timedelta(days=1)
    return (
        datetime(d.year, d.month, d.day, tzinfo=z).astimezone(timezone.utc),
        datetime(nxt.year, nxt.month, nxt.day, tzinfo=z).astimezone(timezone.utc),
    )


def seconds_within(pieces: list[dict], d0: datetime, d1: datetime, keep) -> float:
    """The time within [d0, d1) of the steps KEEP selects."""
    return sum((min(p["step_end"], d1) - max(p["step_start"], d0) for p in pieces if keep(p)), timedelta(0)).total_seconds()


def daily_usage(instances: set[str], denials: list[dict], sessions: list[dict], steps: list[dict], brs: list[dict],
                ents: list[Ent]) -> list[dict]:
    """DENIALS: the refused logins, as (instance, ts)."""
    out = []
    for inst in sorted(instances):
        tz = instance_timezone(ents, inst)
        segs = [s for s in sessions if s["instance"] == inst and s["counted"] and s["end_ts"] > s["start_ts"]]
        refused = [e for e in denials if e["instance"] == inst]
        inst_brs = [b for b in brs if b["instance"] == inst]
        days = set()
        for s in segs:
            days.add(local_day(s["start_ts"], tz))
            days.add(local_day(s["end_ts"] - US, tz))
        for e in refused:
            days.add(local_day(e["ts"], tz))
        if not days:
            continue
        d = min(days)
        while d <= max(days):
            d0, d1 = day_bounds(d, tz)
            pieces = [p for p in steps if p["instance"] == inst and p["step_start"] < d1 and p["step_end"] > d0]
            peak = max((p["seats_in_use"] for p in pieces), default=0)
            peak_at = min((max(p["step_start"], d0) for p in pieces if p["seats_in_use"] == peak), default=None)
            day_segs = [s for s in segs if s["start_ts"] < d1 and s["end_ts"] > d0]
            day_denials = sum(1 for e in refused if d0 <= e["ts"] < d1)
            if not day_segs and not day_denials:
                # only days with a counted session in use or a refused login have a row
                d += timedelta(days=1)
                continue
            out.append(
                {
                    "instance": inst,
                    "day": d,
                    "peak_seats": peak,
                    "peak_at": peak_at if peak > 0 else None,
                    "seat_limit": limit_at(ents, inst, d1 - US),
                    "seconds_over_limit": seconds_within(pieces, d0, d1, over),
                    "seconds_at_limit": seconds_within(pieces, d0, d1, lambda p: p["seats_in_use"] == p["seat_limit"]),
                    "seconds_unlicensed": seconds_within(pieces, d0, d1, lambda p: p["seat_limit"] is None),
                    "breach_count": sum(1 for b in inst_brs if d0 <= b["breach_start"] < d1),
                    "in_breach_at_start": any(b["breach_start"] < d0 < b["breach_end"] for b in inst_brs),
                    "denials": day_denials,
                    "sessions": len(day_segs),
                    "distinct_users": len({s["user"] for s in day_segs if s["user"] is not None}),
                    "distinct_devices": len({s["device"] for s in day_segs if s["device"] is not None}),
                    "peak_seats_min": max((p["seats_in_use_min"] for p in pieces), default=0),
                    "seconds_over_limit_min": seconds_within(pieces, d0, d1, lambda p: over(p, "seats_in_use_min")),
                    "certain_breach_count": sum(1 for b in inst_brs if b["certain"] and d0 <= b["breach_start"] < d1),
                    "in_certain_breach_at_start": any(b["certain"] and b["breach_start"] < d0 < b["breach_end"] for b in inst_brs),
                }
            )
            d += timedelta(days=1)
    return out


def audit(events: list[dict], ents: list[Ent], policy: Policy = DEFAULT_POLICY, *, polls: list[dict] = (),
          polled_rows: list[dict] = (), audit_log: list[dict] = ()) -> dict[str, list[dict]]:
    """The audit's tables from connection-log EVENTS and polled data (POLLS, POLLED_ROWS, AUDIT_LOG)."""
    other = [p["polled_at"] for p in polls] + [e["event_time"] for e in audit_log]
    sessions = build_sessions(events, policy, max(other, default=None)) + build_polled_sessions(list(polls), list(polled_rows), list(audit_log), policy)
    steps = usage_steps(sessions, ents)
    brs = breaches(steps)
    instances = {e["instance"] for e in events} | {p["instance"] for p in polls} | {r["instance"] for r in audit_log}
    denials = [{"instance": e["instance"], "ts": e["ts"]} for e in events if e["event"] == "login_failed"]
    return {
        "sessions": sessions,
        "usage_steps": steps,
        "breaches": brs,
        "daily_usage": daily_usage(instances, denials + poll_denials(list(audit_log)), sessions, steps, brs, ents),
        "coverage_gaps": coverage_gaps(list(polls), policy),
        "daily_coverage": daily_coverage(list(polls), ents, policy),
    }


# --- helpers for the engine tests: put events into a warehouse, read tables back ------

ENGINE_ORDER = {
    "sessions": ("instance", "session_id", "segment"),
    "usage_steps": ("instance", "step_start"),
    "breaches": ("instance", "breach_start"),
    "daily_usage": ("instance", "day"),
    "coverage_gaps": ("instance", "gap_start"),
    "daily_coverage": ("instance", "day"),
}


def write_events(warehouse, events: list[dict]) -> None:
    """Store EVENTS as ingest would: one partition per UTC date."""
    import pyarrow as pa

    from auditor.tables import EVENTS

    by_date: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        row = {f: e.get(f) for f in EVENTS.columns}
        row["seats"] = row["seats"] or 1
        by_date[e["ts"].astimezone(timezone.utc).date().isoformat()].append(row)
    with warehouse.transaction() as tx:
        for day, rows in by_date.items():
            tx.write("events", EVENTS.partitioning.key(day), pa.Table.from_pylist(rows, schema=EVENTS.schema))


def read_table(warehouse, table: str) -> list[dict]:
    con = warehouse.connect()
    try:
        rows = con.sql(f"SELECT * FROM {table}").to_arrow_table().to_pylist()
    finally:
        con.close()
    order = ENGINE_ORDER.get(table, ("instance",))
    return sorted(rows, key=lambda r: tuple(r[k] for k in order))


def sort_rows(rows: list[dict], table: str) -> list[dict]:
    order = ENGINE_ORDER[table]
    return sorted(rows, key=lambda r: tuple(r[k] for k in order))


# --- licence-term findings ---------------------------------------------------------------

def _segment_of(segs: dict[tuple[str, str], list[dict]], e: dict) -> dict | None:
    """The log segment an event belongs to: its session's latest starting at or before it, if it lasts that long."""
    before = [s for s in segs.get((e["instance"], e["session_id"]), []) if s["start_ts"] <= e["ts"]]
    if not before:
        return None
    seg = max(before, key=lambda s: s["start_ts"])
    return seg if e["ts"] <= seg["end_ts"] else None


def _max_in_use(steps: list[dict], instance: str, keep) -> int | None:
    found = [s["seats_in_use"] for s in steps if s["instance"] == instance and keep(s)]
    return max(found) if found else None


def findings(events: list[dict], sessions: list[dict], steps: list[dict], ents: list[Ent],
             polls: list[dict] = (), polled_rows: list[dict] = (), policy: Policy = DEFAULT_POLICY) -> list[dict]:
    """The findings table (without its evidence sentences), straight from the README's definitions."""
    out: list[dict] = []
    segs: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for s in sessions:
        if s["source"] == "log":
            segs[(s["instance"], s["session_id"])].append(s)
    acts = [e for e in events if e["event"] in ORDER]
    # shared_session_devices / shared_session_users: values named by one counted segment's events
    per_segment: dict[tuple, list[dict]] = defaultdict(list)
    for e in acts:
        seg = _segment_of(segs, e)
        if seg is not None and seg["counted"]:
            per_segment[(seg["instance"], seg["session_id"], seg["segment"])].append(e)
    for (inst, sid, n), evs in per_segment.items():
        seg = next(s for s in segs[(inst, sid)] if s["segment"] == n)
        tz = instance_timezone(ents, inst)
        for kind, field_ in (("shared_session_devices", "device"), ("shared_session_users", "user")):
            named = sorted((e["ts"], ORDER[e["event"]], e[field_]) for e in evs if e.get(field_) is not None
                           and not (field_ == "user" and e.get("user_type") in policy.uncounted_user_types))
            names = {v for _, _, v in named}
            if len(names) < 2 or len(names) <= seg["seats"]:
                continue
            changes = [b for a, b in zip(named, named[1:]) if a[2] != b[2]]
            first, last = changes[0][0], max(t for t, _, _ in named)
            in_use = _max_in_use(steps, inst, lambda s: s["step_start"] <= last and s["step_end"] > first) or 0
            out.append({"instance": inst, "kind": kind, "session_id": sid, "user": seg["user"], "first_seen": first,
                        "last_seen": last, "occurrences": len(changes), "seats_implied": len(names),
                        "day": local_day(seg["start_ts"], tz), "peak_seats_implied": in_use + len(names) - seg["seats"]})
    # parallel_requests: a polled session with parallel requests in enough polls of one local day
    collectors = {(p["instance"], p.get("collector_user"), p.get("collector_application")) for p in polls
                  if p.get("collector_user") is not None}
    busy: dict[tuple, list[dict]] = defaultdict(list)
    for r in polled_rows:
        if (r["instance"], r["user"], r["applications"]) in collectors:
            continue
        if (r.get("current_requests") or 0) >= policy.parallel_min_requests:
            ident = (r["session_id"],) if r["session_id"] is not None else (None, r["user"], r["start_time"], r["device"], r["applications"])
            tz = instance_timezone(ents, r["instance"])
            busy[(r["instance"], ident, local_day(r["polled_at"], tz))].append(r)
    for (inst, ident, day), rows in busy.items():
        if len(rows) < policy.parallel_min_polls:
            continue
        rows.sort(key=lambda r: r["polled_at"])
        peak = max((_max_in_use(steps, inst, lambda s: s["step_start"] <= r["polled_at"] < s["step_end"]) or 0)
                   + r["current_requests"] - 1 for r in rows)
        out.append({"instance": inst, "kind": "parallel_requests", "session_id": ident[0] or "", "user": rows[-1]["user"],
                    "first_seen": rows[0]["polled_at"], "last_seen": rows[-1]["polled_at"], "occurrences": len(rows),
                    "seats_implied": max(r["current_requests"] for r in rows), "day": day, "peak_seats_implied": peak})
    # logout_cycling: a logout, then the same user's login on the same device soon after, at a full instance
    ends = []
    for e in acts:
        seg = _segment_of(segs, e)
        if e["event"] in ("login", "logout") and seg is not None and seg["counted"]:
            user, device = e.get("user") or seg["user"], e.get("device") or seg["device"]
            if user is not None and device is not None:
                ends.append((e["instance"], e["event"], e["ts"], user, device))
    cycles: dict[tuple, list[tuple[datetime, datetime]]] = defaultdict(list)
    for inst, kind, t, user, device in ends:
        if kind != "logout":
            continue
        later = [t2 for i2, k2, t2, u2, d2 in ends if (i2, k2, u2, d2) == (inst, "login", user, device) and t2 > t]
        if not later or min(later) - t > policy.cycling_gap:
            continue
        full = [s for s in steps if s["instance"] == inst and s["step_start"] < t <= s["step_end"]
                and s["seat_limit"] is not None and s["seats_in_use"] >= s["seat_limit"]]
        if full:
            login = min(later)
            cycles[(inst, user, device, local_day(login, instance_timezone(ents, inst)))].append((t, login))
    for (inst, user, device, day), pairs in cycles.items():
        if len(pairs) < policy.cycling_min_cycles:
            continue
        peak = max((_max_in_use(steps, inst, lambda s: s["step_start"] < b and s["step_end"] > a) or 0) for a, b in pairs) + 1
        out.append({"instance": inst, "kind": "logout_cycling", "session_id": "", "user": user,
                    "first_seen": min(a for a, _ in pairs), "last_seen": max(b for _, b in pairs), "occurrences": len(pairs),
                    "seats_implied": 1, "day": day, "peak_seats_implied": peak})
    return out


FINDING_ORDER = ("instance", "day", "kind", "first_seen", "session_id", "user")


def sort_findings(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: tuple("" if r[k] is None else r[k] for k in FINDING_ORDER))
