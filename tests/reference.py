"""A plain, obviously correct Python reference of the audit: session rules and sweep.

No DuckDB, no polars: loops and sorted lists, written straight from the rules in
the README ("Session rules"). The property tests require the engine to produce
exactly these rows. Quadratic where that keeps it obvious.
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


def build_sessions(events: list[dict], policy: Policy = DEFAULT_POLICY) -> list[dict]:
    max_ts = max(e["ts"] for e in events)
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
        for n, seg in enumerate(segments, 1):
            out.append(
                {
                    "instance": instance,
                    "session_id": sid,
                    "segment": n,
                    **attrs,
                    "seats": seats,
                    "counted": policy.counts(attrs["user_type"]),
                    "start_ts": seg["start"],
                    "end_ts": seg["end"],
                    "end_reason": seg["reason"],
                    "start_inferred": seg["inferred"],
                    "last_activity_ts": seg["last"],
                }
            )
    return out


def limit_at(ents: list[Ent], instance: str, t: datetime) -> int | None:
    for e in ents:
        if e.instance == instance and e.valid_from_ts <= t and (e.valid_to_ts is None or t < e.valid_to_ts):
            return e.seat_limit
    return None


def usage_steps(sessions: list[dict], ents: list[Ent]) -> list[dict]:
    """Maximal pieces of constant (seats_in_use, seat_limit) with seats_in_use > 0."""
    out = []
    instances = sorted({s["instance"] for s in sessions})
    for inst in instances:
        segs = [s for s in sessions if s["instance"] == inst and s["counted"] and s["end_ts"] > s["start_ts"]]
        points = {s["start_ts"] for s in segs} | {s["end_ts"] for s in segs}
        for e in ents:
            if e.instance == inst:
                points.add(e.valid_from_ts)
                if e.valid_to_ts is not None:
                    points.add(e.valid_to_ts)
        points_sorted = sorted(points)
        pieces = []
        for a, b in zip(points_sorted, points_sorted[1:]):
            level = sum(s["seats"] for s in segs if s["start_ts"] <= a < s["end_ts"])
            limit = limit_at(ents, inst, a)
            if pieces and pieces[-1]["step_end"] == a and (pieces[-1]["seats_in_use"], pieces[-1]["seat_limit"]) == (level, limit):
                pieces[-1]["step_end"] = b
            else:
                pieces.append({"instance": inst, "step_start": a, "step_end": b, "seats_in_use": level, "seat_limit": limit})
        out.extend(p for p in pieces if p["seats_in_use"] > 0)
    return out


def breaches(steps: list[dict]) -> list[dict]:
    over = [s for s in steps if s["seat_limit"] is not None and s["seats_in_use"] > s["seat_limit"]]
    groups: list[list[dict]] = []
    for s in over:
        if groups and groups[-1][-1]["instance"] == s["instance"] and groups[-1][-1]["step_end"] == s["step_start"]:
            groups[-1].append(s)
        else:
            groups.append([s])
    out = []
    for g in groups:
        peak = max(s["seats_in_use"] for s in g)
        at = next(s for s in g if s["seats_in_use"] == peak)
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


def daily_usage(events: list[dict], sessions: list[dict], steps: list[dict], brs: list[dict], ents: list[Ent]) -> list[dict]:
    out = []
    for inst in sorted({e["instance"] for e in events}):
        tz = instance_timezone(ents, inst)
        segs = [s for s in sessions if s["instance"] == inst and s["counted"] and s["end_ts"] > s["start_ts"]]
        denials = [e for e in events if e["instance"] == inst and e["event"] == "login_failed"]
        days = set()
        for s in segs:
            days.add(local_day(s["start_ts"], tz))
            days.add(local_day(s["end_ts"] - US, tz))
        for e in denials:
            days.add(local_day(e["ts"], tz))
        if not days:
            continue
        d = min(days)
        while d <= max(days):
            d0, d1 = day_bounds(d, tz)
            pieces = [p for p in steps if p["instance"] == inst and p["step_start"] < d1 and p["step_end"] > d0]
            peak = max((p["seats_in_use"] for p in pieces), default=0)
            peak_at = min((max(p["step_start"], d0) for p in pieces if p["seats_in_use"] == peak), default=None)
            over = seconds_within(pieces, d0, d1, lambda p: p["seat_limit"] is not None and p["seats_in_use"] > p["seat_limit"])
            day_segs = [s for s in segs if s["start_ts"] < d1 and s["end_ts"] > d0]
            day_denials = sum(1 for e in denials if d0 <= e["ts"] < d1)
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
                    "seconds_over_limit": over,
                    "seconds_at_limit": seconds_within(pieces, d0, d1, lambda p: p["seats_in_use"] == p["seat_limit"]),
                    "seconds_unlicensed": seconds_within(pieces, d0, d1, lambda p: p["seat_limit"] is None),
                    "breach_count": sum(1 for b in brs if b["instance"] == inst and d0 <= b["breach_start"] < d1),
                    "in_breach_at_start": any(b["instance"] == inst and b["breach_start"] < d0 < b["breach_end"] for b in brs),
                    "denials": day_denials,
                    "sessions": len(day_segs),
                    "distinct_users": len({s["user"] for s in day_segs if s["user"] is not None}),
                    "distinct_devices": len({s["device"] for s in day_segs if s["device"] is not None}),
                }
            )
            d += timedelta(days=1)
    return out


def audit(events: list[dict], ents: list[Ent], policy: Policy = DEFAULT_POLICY) -> dict[str, list[dict]]:
    sessions = build_sessions(events, policy)
    steps = usage_steps(sessions, ents)
    brs = breaches(steps)
    return {
        "sessions": sessions,
        "usage_steps": steps,
        "breaches": brs,
        "daily_usage": daily_usage(events, sessions, steps, brs, ents),
    }


# --- helpers for the engine tests: put events into a warehouse, read tables back ------

ENGINE_ORDER = {
    "sessions": ("instance", "session_id", "segment"),
    "usage_steps": ("instance", "step_start"),
    "breaches": ("instance", "breach_start"),
    "daily_usage": ("instance", "day"),
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
