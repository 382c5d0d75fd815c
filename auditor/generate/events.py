"""From planned parts to connection-log events.

Each part becomes a login, requests a few minutes apart (never 20 minutes or
more, so a part is one segment), and perhaps a logout. Then the server has its
say: where an instance enforces its seat limit, a login that would take the
counted seats above it is refused (a ``login_failed`` with reason
``MaximumLicenseCountExceeded``) and that part never happens. Restarts are
added, and the first request of a session after a restart logs in again.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from auditor.generate.activity import EPOCH_ORDINAL, HOUR, US, VIR, Calendar, Parts
from auditor.generate.fleet import InstanceSpec

EVENT_KINDS = ("login", "request", "logout", "login_failed", "restart")
LOGIN, REQUEST, LOGOUT, LOGIN_FAILED, RESTART = range(len(EVENT_KINDS))
REFUSAL_REASON = "MaximumLicenseCountExceeded"

#: The idle timeout the generator plans around: gaps between requests stay below it.
IDLE_TIMEOUT_S = 20 * 60.0
MAX_GAP_S = 19 * 60.0


@dataclass
class Events:
    """Events grouped by UTC day (in no order within a day); ``part`` is -1 for restarts."""

    ts: np.ndarray  # int64 UTC microseconds
    kind: np.ndarray  # int8 into EVENT_KINDS
    inst: np.ndarray  # int32
    part: np.ndarray  # int64 index into the parts, or -1
    day: np.ndarray  # UTC day from the first written, ascending


@dataclass
class Timeline:
    """Per part: its request times, and the moment the licence lets go of it."""

    req_part: np.ndarray  # part index of each request
    req_ts: np.ndarray  # UTC microseconds of each request
    n_req: np.ndarray  # requests per part
    last: np.ndarray  # latest activity of each part
    logout_ts: np.ndarray  # the logout's time (meaningful where parts.logout)
    release: np.ndarray  # when the part stops holding seats


def timeline(parts: Parts, rng: np.random.Generator) -> Timeline:
    mean_gap = (parts.gap_lo + parts.gap_hi) / 2
    n_req = np.where(mean_gap > 0, np.floor(parts.duration / np.maximum(mean_gap, 1e-9)), 0).astype(np.int64)
    req_part = np.repeat(np.arange(len(parts)), n_req)
    lo, hi = parts.gap_lo[req_part], parts.gap_hi[req_part]
    gaps = lo + (hi - lo) * rng.random(len(req_part))
    csum = np.cumsum(gaps)
    first = np.cumsum(n_req) - n_req
    before = np.zeros(len(parts))
    has = n_req > 0
    before[has] = (csum[first[has]] - gaps[first[has]])
    offset = csum - before[req_part]
    total = np.zeros(len(parts))
    total[has] = offset[first[has] + n_req[has] - 1]
    # Stretch the requests over the planned duration, but never so far apart
    # that the part would time out in the middle.
    scale = np.ones(len(parts))
    scale[has] = np.minimum(parts.duration[has] / total[has], MAX_GAP_S / np.maximum(parts.gap_hi[has], 1.0))
    req_ts = parts.start[req_part] + np.round(offset * scale[req_part] * US).astype(np.int64)
    last = parts.start.copy()
    last[has] = req_ts[first[has] + n_req[has] - 1]
    logout_ts = last + np.round(rng.uniform(1.0, 90.0, len(parts)) * US).astype(np.int64)
    release = np.where(parts.logout, logout_ts, last + int(IDLE_TIMEOUT_S * US))
    return Timeline(req_part, req_ts, n_req, last, logout_ts, release)


def refusals(fleet: Sequence[InstanceSpec], cal: Calendar, parts: Parts, tl: Timeline) -> np.ndarray:
    """Which parts the server refuses because the instance is full (bool per part).

    A login is refused when the seats of the parts already admitted and still
    held, plus its own, would exceed the enforced limit (the seat limit in
    force on its local day plus the instance's enforcement excess).

    Why this needs no loop over every part: the admitted level at any instant
    is the level of all planned parts minus the refused parts still planned to
    run, and only a login at an instant when the planned level is over the
    limit can be refused. So one vectorised sweep gives the planned level, and
    a short loop over those candidate logins alone decides them in time order.
    """
    refused = np.zeros(len(parts), dtype=bool)
    enforce = np.array([s.enforce_excess is not None and s.plan is not None for s in fleet])
    idx = np.flatnonzero((parts.user_type != VIR) & enforce[parts.inst])
    if len(idx) == 0:
        return refused
    limits = _enforced_limits(fleet, cal)
    n = len(idx)
    t = np.concatenate([parts.start[idx], tl.release[idx]])
    w = np.concatenate([parts.seats[idx], -parts.seats[idx]]).astype(np.int64)
    inst = np.concatenate([parts.inst[idx], parts.inst[idx]])
    is_start = np.concatenate([np.ones(n, bool), np.zeros(n, bool)])
    who = np.concatenate([idx, idx])
    # Ends before starts at one instant (intervals are half-open); ties between
    # starts in part order, the order the loop below decides them in.
    order = np.lexsort((who, is_start, t, inst))
    level = np.cumsum(w[order])  # each instance nets to zero, so one running sum serves all
    starts = np.flatnonzero(is_start[order])
    p_start = who[order][starts]
    planned = level[starts]
    cand = planned > limits[parts.inst[p_start], parts.day[p_start]]
    c_part = p_start[cand].tolist()
    c_level = planned[cand].tolist()
    c_inst = parts.inst[p_start[cand]].tolist()
    c_limit = limits[parts.inst[p_start[cand]], parts.day[p_start[cand]]].tolist()
    c_start = parts.start[p_start[cand]].tolist()
    c_seats = parts.seats[p_start[cand]].tolist()
    c_release = tl.release[p_start[cand]].tolist()
    held: list[tuple[int, int]] = []  # (release, seats) of refused parts that would still run
    refused_level = 0
    current = -1
    for k in range(len(c_part)):
        if c_inst[k] != current:
            current, held, refused_level = c_inst[k], [], 0
        s = c_start[k]
        while held and held[0][0] <= s:
            refused_level -= heapq.heappop(held)[1]
        if c_level[k] - refused_level > c_limit[k]:
            refused[c_part[k]] = True
            refused_level += c_seats[k]
            heapq.heappush(held, (c_release[k], c_seats[k]))
    return refused


def _enforced_limits(fleet: Sequence[InstanceSpec], cal: Calendar) -> np.ndarray:
    """[inst, local day] the most counted seats the server admits (huge where it never refuses)."""
    out = np.full((len(fleet), cal.local_days), 1 << 40, dtype=np.int64)
    for i, spec in enumerate(fleet):
        if spec.enforce_excess is None or spec.plan is None:
            continue
        for j in range(cal.local_days):
            limit = spec.seat_limit(cal.local_date(j))
            assert limit is not None
            out[i, j] = limit + spec.enforce_excess
    return out


def restarts(fleet: Sequence[InstanceSpec], cal: Calendar, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inst, UTC microseconds) of every restart, at most one per instance and local day."""
    rate = np.array([s.restart_rate for s in fleet])
    hit = rng.random((len(fleet), cal.local_days)) < rate[:, None]
    # Most restarts are the night's maintenance window; one in four is in the day.
    hour = np.where(rng.random(hit.shape) < 0.75, rng.uniform(2.5, 3.5, hit.shape), rng.uniform(9.0, 17.0, hit.shape))
    for i, spec in enumerate(fleet):
        for day, at in spec.restarts:
            hit[i, day + 1] = True
            hour[i, day + 1] = at
    inst, day = np.nonzero(hit)
    return inst.astype(np.int32), cal.to_utc(inst, day, hour[inst, day] * HOUR)


def explode(parts: Parts, tl: Timeline, refused: np.ndarray, restart_inst: np.ndarray, restart_ts: np.ndarray, cal: Calendar) -> Events:
    """All events of the written UTC days, in time order."""
    ok = ~refused
    logs_out = parts.logout & ok
    n_req = np.where(ok, tl.n_req, 0)
    count = 1 + n_req + logs_out
    total = int(count.sum())
    first = np.cumsum(count) - count
    ts = np.empty(total, dtype=np.int64)
    kind = np.full(total, REQUEST, dtype=np.int8)
    part = np.repeat(np.arange(len(parts), dtype=np.int64), count)
    ts[first] = parts.start
    kind[first] = np.where(ok, LOGIN, LOGIN_FAILED)
    keep_req = ok[tl.req_part]
    req_rank = np.arange(len(tl.req_part)) - np.repeat(np.cumsum(tl.n_req) - tl.n_req, tl.n_req)
    ts[first[tl.req_part[keep_req]] + 1 + req_rank[keep_req]] = tl.req_ts[keep_req]
    out_at = first[logs_out] + count[logs_out] - 1
    ts[out_at] = tl.logout_ts[logs_out]
    kind[out_at] = LOGOUT
    _relogin_after_restarts(ts, kind, part, first, count, parts, restart_inst, restart_ts)
    ts = np.concatenate([ts, restart_ts])
    kind = np.concatenate([kind, np.full(len(restart_ts), RESTART, dtype=np.int8)])
    part = np.concatenate([part, np.full(len(restart_ts), -1, dtype=np.int64)])
    inst = np.concatenate([parts.inst[part[: total]], restart_inst])
    lo = (cal.start.toordinal() - EPOCH_ORDINAL) * 86_400 * US
    window = (ts >= lo) & (ts < lo + cal.days * 86_400 * US)
    ts, kind, part, inst = ts[window], kind[window], part[window], inst[window]
    # Group by UTC day only (a radix sort on a small integer); each day's file
    # is put in time order when it is written, a far cheaper sort than one of
    # all events at once.
    day = ((ts - lo) // (86_400 * US)).astype(np.int16 if cal.days < 2**15 else np.int32)
    order = np.argsort(day, kind="stable")
    return Events(ts[order], kind[order], inst[order], part[order], day[order])


def _relogin_after_restarts(
    ts: np.ndarray, kind: np.ndarray, part: np.ndarray, first: np.ndarray, count: np.ndarray,
    parts: Parts, restart_inst: np.ndarray, restart_ts: np.ndarray,
) -> None:
    """A client whose session a restart ended logs in again at its next request."""
    if len(restart_ts) == 0 or len(ts) == 0:
        return
    # Restart moments per instance, sorted, to find the latest one before each event.
    order = np.lexsort((restart_ts, restart_inst))
    r_inst, r_ts = restart_inst[order], restart_ts[order]
    inst = parts.inst[part].astype(np.int64)
    # One sortable key per (instance, time): instance-major, time within.
    base = min(int(ts.min()), int(r_ts.min()))
    span = max(int(ts.max()), int(r_ts.max())) - base + 1
    key_r = r_inst.astype(np.int64) * span + (r_ts - base)
    key_e = inst * span + (ts - base)
    pos = np.searchsorted(key_r, key_e, side="right") - 1  # latest restart at or before each event
    valid = pos >= 0
    valid[valid] &= r_inst[pos[valid]] == inst[valid]
    latest = np.where(valid, r_ts[np.maximum(pos, 0)], np.iinfo(np.int64).min)
    prev_ts = np.empty_like(ts)
    prev_ts[1:] = ts[:-1]
    within = np.ones(len(ts), dtype=bool)
    within[first] = False  # an event's predecessor must be in the same part
    prev_ts[~within] = np.iinfo(np.int64).min
    relogin = within & (kind == REQUEST) & (latest > prev_ts)
    kind[relogin] = LOGIN
