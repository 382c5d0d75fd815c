"""Licence-term behaviours planted on purpose: each finding kind, and the look-alikes that are none.

An instance's ``InstanceSpec.plant`` names what to plant. The log kinds are added here, after the
server has had its say (``events.refusals``), as extra events of existing desk parts, so that every
other figure of the instance stays as it was; ``parallel_requests`` and ``parallel_once`` are planted
in the polled simulation (:func:`auditor.generate.polling.simulate`).

| name | what is planted | finding |
|---|---|---|
| ``shared_session_devices`` | a desk session's requests alternate with PC-RECEPTION for an hour | yes |
| ``shared_session_users`` | a desk session's requests name two colleagues as well | yes |
| ``logout_cycling`` | on a full instance, a desk user logs out and in again 20-40 s later, 6+ times a day | yes |
| ``slow_relogin`` | the same, but back after 3-8 minutes | no |
| ``quick_relogin`` | quick re-logins, on an instance below its limit | no |
| ``parallel_requests`` | a polled session with 2-3 requests in progress at 4 polls of a day | yes |
| ``parallel_once`` | 2 requests in progress at 2 polls of a day | no |

The other look-alikes need no planting: one person's desk and phone sessions (two devices, two
sessions), requests that never name the device, portals' virtual users and client-credentials
services renewed by expiry are in every generated fleet.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from auditor.findings import FINDING_KINDS as FINDINGS
from auditor.generate.activity import DESK, SHARED, US, VIR, Calendar, Dimensions, Parts
from auditor.generate.events import LOGIN, LOGOUT, REQUEST, Events, Timeline
from auditor.generate.fleet import InstanceSpec
from auditor.generate.snapshots import TrueSession

if TYPE_CHECKING:
    from auditor.generate.polling import Poll

#: The planted names that are findings (the rest are look-alikes).
FINDING_KINDS = tuple(FINDINGS)
LOOK_ALIKES = ("slow_relogin", "quick_relogin", "parallel_once")
LOG_PLANTS = ("shared_session_devices", "shared_session_users", "logout_cycling", "slow_relogin", "quick_relogin")
#: Days planted per instance and kind: "a few days".
PLANT_DAYS = 3
#: Cycles planted on a day of logout cycling (the policy's threshold is 5).
CYCLES_PER_DAY = 7
RECEPTION = "PC-RECEPTION"
MIN = 60 * US


@dataclass
class Planted:
    """The log after planting, and what was planted where (instance -> names, each planted at least once)."""

    parts: Parts
    dims: Dimensions
    events: Events
    planted: dict[str, tuple[str, ...]]


def plant_logs(
    fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, parts: Parts, tl: Timeline, refused: np.ndarray,
    ev: Events, restart_inst: np.ndarray, restart_ts: np.ndarray, rng: np.random.Generator,
    avoid: frozenset[date] = frozenset(),
) -> Planted:
    """Add the planted events of FLEET to EV (days in AVOID are left alone)."""
    new_parts: list[Parts] = []
    new_ev: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # ts, kind, inst, part
    planted: dict[str, list[str]] = {}
    n_parts = len(parts)
    if any(name in ("shared_session_devices",) for s in fleet for name in s.plant):
        dims.devices.append(RECEPTION)
    reception = len(dims.devices) - 1
    held = (parts.user_type != VIR) & ~refused
    first_req = np.cumsum(tl.n_req) - tl.n_req
    # each instance's parts, found by one sort rather than a scan per planted instance (fleets of 10,000)
    by_inst = np.argsort(parts.inst, kind="stable")
    bounds = np.searchsorted(parts.inst[by_inst], np.arange(len(fleet) + 1))
    for i, spec in enumerate(fleet):
        wanted = [p for p in spec.plant if p in LOG_PLANTS]
        if not wanted:
            continue
        own = by_inst[bounds[i]:bounds[i + 1]]
        restart_days = set(np.asarray(restart_ts[restart_inst == i]) // (86_400 * US))
        days = [j for j in range(2, cal.days)
                if cal.weekday[j] and cal.local_date(j) not in avoid
                and not restart_days & {(int(cal.naive_us[j]) // (86_400 * US)) + d for d in (-1, 0, 1)}]
        hosts_all = own[(parts.kind[own] == DESK) & ~refused[own] & (tl.n_req[own] >= 6)]
        for name in wanted:
            done = 0
            for j in days:
                if done == PLANT_DAYS:
                    break
                hosts = hosts_all[parts.day[hosts_all] == j]
                # the morning part of the first desk user present (a different user per kind)
                hosts = hosts[np.argsort(parts.start[hosts], kind="stable")]
                if len(hosts) == 0:
                    continue
                host = int(hosts[LOG_PLANTS.index(name) % len(hosts)])
                req = tl.req_ts[first_req[host]: first_req[host] + tl.n_req[host]]
                if name == "shared_session_devices":
                    if tl.last[host] - parts.start[host] < 80 * MIN:
                        continue
                    ts = parts.start[host] + 2 * MIN + np.arange(20) * 3 * MIN + rng.integers(0, 30 * US, 20)
                    copy = _copies(parts, host, n_parts + sum(map(len, new_parts)), [parts.device[host], reception], "device")
                    new_parts.append(copy[0])
                    new_ev.append((ts, np.full(20, REQUEST), np.full(20, i), copy[1][np.arange(20) % 2]))
                elif name == "shared_session_users":
                    people = spec.desk_users + spec.casual_users
                    k = int(parts.user[host] - dims.user_offset[i])
                    others = sorted({int(dims.user_offset[i]) + (k + d) % people for d in (1, 2)} - {int(parts.user[host])})
                    if not others:
                        continue
                    users = [others[0], int(parts.user[host]), others[-1], int(parts.user[host]), others[0]]
                    ts = parts.start[host] + MIN + np.arange(len(users)) * 4 * MIN + rng.integers(0, 30 * US, len(users))
                    if ts[-1] >= tl.last[host]:
                        continue
                    copy = _copies(parts, host, n_parts + sum(map(len, new_parts)), users, "user")
                    new_parts.append(copy[0])
                    new_ev.append((ts, np.full(len(users), REQUEST), np.full(len(users), i), copy[1]))
                else:
                    # the first desk part of the day, from the kind's own user on, that fits the cycles
                    for h in np.roll(hosts, -(LOG_PLANTS.index(name) % len(hosts))):
                        req = tl.req_ts[first_req[h]: first_req[h] + tl.n_req[h]]
                        cycles = _cycles(name, spec, cal, parts, tl, own[held[own]], j, req, rng)
                        if cycles is not None:
                            break
                    if cycles is None:
                        continue
                    out, back = cycles
                    n = len(out)
                    new_ev.append((np.concatenate([out, back]), np.repeat([LOGOUT, LOGIN], n), np.full(2 * n, i),
                                   np.full(2 * n, h)))
                done += 1
            if done:
                planted.setdefault(spec.name, []).append(name)
    if not new_ev:
        return Planted(parts, dims, ev, {})
    parts = Parts.concat([parts, *new_parts])
    ts = np.concatenate([ev.ts, *(e[0] for e in new_ev)]).astype(np.int64)
    kind = np.concatenate([ev.kind, *(e[1] for e in new_ev)]).astype(np.int8)
    inst = np.concatenate([ev.inst, *(e[2] for e in new_ev)]).astype(np.int32)
    part = np.concatenate([ev.part, *(e[3] for e in new_ev)]).astype(np.int64)
    lo = (cal.start.toordinal() - date(1970, 1, 1).toordinal()) * 86_400 * US
    day = ((ts - lo) // (86_400 * US)).astype(ev.day.dtype)
    keep = (day >= 0) & (day < cal.days)
    order = np.argsort(day[keep], kind="stable")
    events = Events(ts[keep][order], kind[keep][order], inst[keep][order], part[keep][order], day[keep][order])
    return Planted(parts, dims, events, {k: tuple(v) for k, v in planted.items()})


def _copies(parts: Parts, host: int, first: int, values: list[int], column: str) -> tuple[Parts, np.ndarray]:
    """Parts like HOST (same session) but of kind SHARED with COLUMN set to each of VALUES; their indices."""
    distinct = list(dict.fromkeys(values))
    idx = np.full(len(distinct), host)
    copy = Parts(**{f: getattr(parts, f)[idx].copy() for f in parts.__dataclass_fields__})
    copy.kind[:] = SHARED
    getattr(copy, column)[:] = distinct
    return copy, first + np.array([distinct.index(v) for v in values], dtype=np.int64)


def _cycles(
    name: str, spec: InstanceSpec, cal: Calendar, parts: Parts, tl: Timeline, held: np.ndarray, j: int,
    req: np.ndarray, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Logouts and the logins after them in a desk part with requests REQ, or None when the day does not fit.

    HELD: the instance's parts that hold seats.

    Each logout comes a few seconds after one of its requests, and the login back well before the next
    (requests are at least 14 minutes apart). Cycling and the slow look-alike log out only while the
    instance's held seats are at its limit; quick re-logins only well below it.
    """
    limit = spec.seat_limit(cal.local_date(j))
    if limit is None:
        return None
    out = req[:-1] + rng.integers(2 * US, 10 * US, len(req) - 1)
    mine = held[np.abs(parts.day[held] - j) <= 1]

    def level(t: np.ndarray) -> np.ndarray:
        s, r = parts.start[mine], tl.release[mine]
        return ((s[None, :] <= t[:, None]) & (t[:, None] < r[None, :])) @ parts.seats[mine].astype(np.int64)

    at = level(out)
    out = out[(at >= limit) if name != "quick_relogin" else (at < limit - 1)]
    if len(out) < CYCLES_PER_DAY - 1:
        return None
    out = out[:CYCLES_PER_DAY]
    gap = rng.uniform(180, 480, len(out)) if name == "slow_relogin" else rng.uniform(20, 40, len(out))
    return out, out + np.round(gap * US).astype(np.int64)


def plant_parallel(
    plant: Sequence[str], sessions: list[TrueSession], polls: Sequence[Poll], zone: ZoneInfo, rng: random.Random,
) -> tuple[list[TrueSession], tuple[str, ...]]:
    """SESSIONS with parallel requests planted as PLANT asks, and the names planted at least once.

    A planted poll finds 2 or 3 requests in progress in one person's session (they came in the second
    before it). Only polls between the session's start and its last own request are used, so that
    neither its start nor its end moves.
    """
    out = list(sessions)
    planted: list[str] = []
    used: set[str] = set()
    listed = [p.at for p in polls if p.error is None]
    for name in (n for n in ("parallel_requests", "parallel_once") if n in plant):
        count, most = (4, 3) if name == "parallel_requests" else (2, 2)
        days = 0
        for day in sorted({at.astimezone(zone).date() for at in listed})[1:-1]:
            if days == PLANT_DAYS or day.weekday() >= 5:
                continue
            for k, s in enumerate(out):
                if s.uncounted or s.absolute_expiration is not None or s.session_id in used or len(s.request_times) < 2:
                    continue
                ats = [at for at in listed if s.start < at < s.request_times[-1] and at.astimezone(zone).date() == day]
                if len(ats) < count + 2:
                    continue
                extra = tuple(at - timedelta(milliseconds=100 * (r + 1))
                              for n, at in enumerate(ats[1:count + 1]) for r in range(most if n == 0 else rng.randint(2, most)))
                out[k] = replace(s, request_times=tuple(sorted(s.request_times + extra)))
                used.add(s.session_id)
                days += 1
                break
        if days:
            planted.append(name)
    return out, tuple(planted)
