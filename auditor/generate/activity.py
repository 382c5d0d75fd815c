"""Who connects when: the planned session parts of a fleet, as numpy arrays.

A *part* is one stretch of activity under one session id: a login, requests a
few minutes apart, and perhaps a logout. A desktop worker's day is two parts
around lunch, and in most cases the afternoon part logs in again with the same
session id (ERP.net reuses it on re-login). Everything is drawn for all
instances and days at once, so that a fleet of 10,000 instances takes seconds.

Times are planned in each instance's local time and turned into UTC instants
with that day's offset, so working hours follow the clock on the office wall
across a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from auditor.generate import names
from auditor.generate.fleet import InstanceSpec

US = 1_000_000
HOUR = 3600.0
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Part kinds. SHARED: planted requests of another part's session that name their own user or device
# (auditor.generate.plants).
DESK, CASUAL, SERVICE, APP, VIRTUAL, SHARED = range(6)

APPS = (
    "ERP.net Desktop Client",
    "ERP.net Web Client",
    "ERP.net Mobile",
    "Payroll Sync Service",
    "Webshop Connector",
    "Customer Portal",
)
DESKTOP_APP, WEB_APP, MOBILE_APP, SERVICE_APP, CONNECTOR_APP, PORTAL_APP = range(len(APPS))
USER_TYPES = ("INT", "APP", "VIR")
INT, APP_USER, VIR = range(len(USER_TYPES))
AUTH_FLOWS = ("authorization_code", "client_credentials", "password")
AUTH_CODE, CLIENT_CREDENTIALS, PASSWORD = range(len(AUTH_FLOWS))

# Sessions that start at a random moment follow the office day: a morning
# ramp, a dip at lunch, a second peak in the afternoon, a quiet evening.
START_HOUR_WEIGHTS = np.array(
    [0, 0, 0, 0, 0, 0, 0.2, 1.0, 3.0, 4.0, 4.0, 3.5, 1.2, 2.5, 3.8, 3.5, 3.0, 2.0, 1.0, 0.8, 0.6, 0.4, 0.2, 0.1]
)
START_HOUR_P = START_HOUR_WEIGHTS / START_HOUR_WEIGHTS.sum()


@dataclass
class Parts:
    """Planned parts, one element per part (all arrays the same length)."""

    inst: np.ndarray  # int32, index into the fleet
    day: np.ndarray  # int32, local day index (0 = the day before the start)
    kind: np.ndarray  # int8
    sid: np.ndarray  # int64 session id
    user: np.ndarray  # int32 into Dimensions.users
    device: np.ndarray  # int32 into Dimensions.devices
    app: np.ndarray  # int8 into APPS
    user_type: np.ndarray  # int8 into USER_TYPES
    auth_flow: np.ndarray  # int8 into AUTH_FLOWS
    seats: np.ndarray  # int16
    start: np.ndarray  # int64 UTC microseconds of the login
    duration: np.ndarray  # float64 seconds until the planned last request
    gap_lo: np.ndarray  # float64 seconds between requests, at least
    gap_hi: np.ndarray  # float64 seconds between requests, at most
    logout: np.ndarray  # bool: ends with a logout (else it just stops)

    def __len__(self) -> int:
        return len(self.inst)

    @classmethod
    def concat(cls, parts: Sequence[Parts]) -> Parts:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})


@dataclass
class Dimensions:
    """The strings parts point at: users and devices (global lists)."""

    users: list[str]
    devices: list[str]
    #: First user index of each instance in ``users``; device 2u is user u's computer, 2u+1 their phone.
    user_offset: np.ndarray
    service_user: int
    connector_user: int
    portal_user: int
    service_device: int
    connector_device: int
    portal_device: int


@dataclass
class Calendar:
    """Local days simulated for each instance and how they map to UTC."""

    start: date  # the first UTC day written
    days: int  # UTC days written
    local_days: int  # local days simulated: one either side of the written range
    naive_us: np.ndarray  # local midnight of each local day, as if it were UTC
    off_midnight_us: np.ndarray  # [tz, day] UTC offset at local midnight
    off_noon_us: np.ndarray  # [tz, day] UTC offset at local noon
    weekday: np.ndarray  # bool per local day: Monday..Friday
    tz_of_inst: np.ndarray  # int index into the distinct time zones

    @classmethod
    def build(cls, fleet: Sequence[InstanceSpec], start: date, days: int) -> Calendar:
        zones = sorted({s.timezone for s in fleet})
        local = [start - timedelta(days=1) + timedelta(days=j) for j in range(days + 2)]
        off_mid = np.zeros((len(zones), len(local)), dtype=np.int64)
        off_noon = np.zeros_like(off_mid)
        for z, name in enumerate(zones):
            tz = ZoneInfo(name)
            for j, d in enumerate(local):
                off_mid[z, j] = _offset_us(datetime(d.year, d.month, d.day, 0, tzinfo=tz))
                off_noon[z, j] = _offset_us(datetime(d.year, d.month, d.day, 12, tzinfo=tz))
        index = {name: z for z, name in enumerate(zones)}
        return cls(
            start=start,
            days=days,
            local_days=len(local),
            naive_us=np.array([(d.toordinal() - EPOCH_ORDINAL) * 86_400 * US for d in local], dtype=np.int64),
            off_midnight_us=off_mid,
            off_noon_us=off_noon,
            weekday=np.array([d.weekday() < 5 for d in local]),
            tz_of_inst=np.array([index[s.timezone] for s in fleet], dtype=np.int32),
        )

    def local_date(self, day: int) -> date:
        return self.start - timedelta(days=1) + timedelta(days=int(day))

    def to_utc(self, inst: np.ndarray, day: np.ndarray, local_seconds: np.ndarray) -> np.ndarray:
        """UTC microseconds of LOCAL_SECONDS after local midnight of DAY at instance INST."""
        tz = self.tz_of_inst[inst]
        # Clocks change between 01:00 and 04:00: before 04:00 midnight's offset holds.
        offset = np.where(local_seconds < 4 * HOUR, self.off_midnight_us[tz, day], self.off_noon_us[tz, day])
        return self.naive_us[day] + np.round(local_seconds * US).astype(np.int64) - offset


def _offset_us(moment: datetime) -> int:
    offset = moment.utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) * US


def build_dimensions(fleet: Sequence[InstanceSpec], rng: np.random.Generator) -> Dimensions:
    users: list[str] = []
    devices: list[str] = []
    offsets = np.zeros(len(fleet), dtype=np.int64)
    tags = rng.integers(0, 16**6, size=sum(s.desk_users + s.casual_users for s in fleet))
    t = 0
    for i, spec in enumerate(fleet):
        offsets[i] = len(users)
        for k in range(spec.desk_users + spec.casual_users):
            # Shift by instance so that every company does not employ the same people.
            name = names.user_name(k + 7 * i)
            users.append(name)
            prefix = names.DESKTOP_PREFIXES[(k + i) % len(names.DESKTOP_PREFIXES)]
            devices.append(f"{prefix}-{int(tags[t]):06X}")
            devices.append(f"{names.MOBILE_DEVICES[(k + 2 * i) % len(names.MOBILE_DEVICES)]}-{name.split('.')[0]}")
            t += 1
    specials = len(users)
    users += ["svc-payroll-sync", "webshop-connector", "portal-guest"]
    devices_special = len(devices)
    devices += ["srv-integration-01", "webshop-gw", "portal-web"]
    return Dimensions(
        users=users,
        devices=devices,
        user_offset=offsets,
        service_user=specials,
        connector_user=specials + 1,
        portal_user=specials + 2,
        service_device=devices_special,
        connector_device=devices_special + 1,
        portal_device=devices_special + 2,
    )


def plan_parts(
    fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, rng: np.random.Generator
) -> Parts:
    """Every planned part of every instance on every simulated local day."""
    return Parts.concat(
        [
            _desk_parts(fleet, cal, dims, rng),
            _casual_parts(fleet, cal, dims, rng),
            _service_parts(fleet, cal, dims, rng),
            _connector_parts(fleet, cal, dims, rng),
            _portal_parts(fleet, cal, dims, rng),
        ]
    )


def _instance_days(counts_per_instance: np.ndarray, cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """(inst, day) for each of COUNTS items per instance on every local day."""
    k = len(counts_per_instance)
    inst = np.repeat(np.tile(np.arange(k, dtype=np.int32), cal.local_days), np.tile(counts_per_instance, cal.local_days))
    day = np.repeat(np.repeat(np.arange(cal.local_days, dtype=np.int32), k), np.tile(counts_per_instance, cal.local_days))
    return inst, day


def _parts(
    inst: np.ndarray,
    day: np.ndarray,
    kind: int,
    sid: np.ndarray,
    user: np.ndarray,
    device: np.ndarray,
    app: np.ndarray | int,
    user_type: int,
    auth_flow: int,
    seats: np.ndarray | int,
    start: np.ndarray,
    duration: np.ndarray,
    gap_lo: float,
    gap_hi: float,
    logout: np.ndarray,
) -> Parts:
    n = len(inst)
    return Parts(
        inst=inst.astype(np.int32),
        day=day.astype(np.int32),
        kind=np.full(n, kind, dtype=np.int8),
        sid=sid.astype(np.int64),
        user=user.astype(np.int32),
        device=device.astype(np.int32),
        app=np.broadcast_to(np.asarray(app, dtype=np.int8), (n,)).copy(),
        user_type=np.full(n, user_type, dtype=np.int8),
        auth_flow=np.full(n, auth_flow, dtype=np.int8),
        seats=np.broadcast_to(np.asarray(seats, dtype=np.int16), (n,)).copy(),
        start=start.astype(np.int64),
        duration=np.maximum(duration, 0.0),
        gap_lo=np.full(n, gap_lo),
        gap_hi=np.full(n, gap_hi),
        logout=logout.astype(bool),
    )


def _sids(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(1, 2**63 - 1, size=n, dtype=np.int64)


def _desk_parts(fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, rng: np.random.Generator) -> Parts:
    desk = np.array([s.desk_users for s in fleet], dtype=np.int64)
    inst, day = _instance_days(desk, cal)
    # Which desk user of the instance each candidate is.
    firsts = np.repeat(np.cumsum(np.tile(desk, cal.local_days)) - np.tile(desk, cal.local_days), np.tile(desk, cal.local_days))
    k = np.arange(len(inst)) - firsts
    present = rng.random(len(inst)) < np.where(cal.weekday[day], 0.92, 0.02)
    inst, day, k = inst[present], day[present], k[present]
    n = len(inst)
    arrive = np.clip(rng.normal(8.4, 0.6, n), 6.5, 11.0) * HOUR
    lunch = np.maximum(np.clip(rng.normal(12.2, 0.3, n), 11.3, 13.5) * HOUR, arrive + 0.75 * HOUR)
    back = lunch + rng.uniform(0.5, 1.1, n) * HOUR
    leave = np.maximum(np.clip(rng.normal(17.3, 0.7, n), 14.0, 20.5) * HOUR, back + HOUR)
    user = dims.user_offset[inst] + k
    device = 2 * user
    app = np.where(user % 10 < 7, DESKTOP_APP, WEB_APP)
    sid_morning = _sids(rng, n)
    # Most clients log in again after lunch with the same session id.
    sid_afternoon = np.where(rng.random(n) < 0.6, sid_morning, _sids(rng, n))
    morning = _parts(
        inst, day, DESK, sid_morning, user, device, app, INT, AUTH_CODE, 1,
        cal.to_utc(inst, day, arrive), lunch - arrive, 14 * 60.0, 19 * 60.0, rng.random(n) < 0.25,
    )
    afternoon = _parts(
        inst, day, DESK, sid_afternoon, user, device, app, INT, AUTH_CODE, 1,
        cal.to_utc(inst, day, back), leave - back, 14 * 60.0, 19 * 60.0, rng.random(n) < 0.65,
    )
    return Parts.concat([morning, afternoon])


def _random_starts(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.choice(24, size=n, p=START_HOUR_P) + rng.random(n)) * HOUR


def _casual_parts(fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, rng: np.random.Generator) -> Parts:
    rate = np.array([s.casual_rate for s in fleet])
    lam = np.outer(np.where(cal.weekday, 1.0, 0.1), rate)  # [day, inst]
    counts = rng.poisson(lam).ravel()
    day = np.repeat(np.repeat(np.arange(cal.local_days, dtype=np.int32), len(fleet)), counts)
    inst = np.repeat(np.tile(np.arange(len(fleet), dtype=np.int32), cal.local_days), counts)
    n = len(inst)
    people = np.array([s.desk_users + s.casual_users for s in fleet])
    user = dims.user_offset[inst] + (rng.random(n) * people[inst]).astype(np.int64)
    mobile = rng.random(n) < 0.6
    device = 2 * user + mobile
    app = np.where(mobile, MOBILE_APP, WEB_APP)
    duration = np.minimum(rng.lognormal(np.log(15 * 60), 0.8, n), 150 * 60.0)
    return _parts(
        inst, day, CASUAL, _sids(rng, n), user, device, app, INT, AUTH_CODE, 1,
        cal.to_utc(inst, day, _random_starts(rng, n)), duration, 60.0, 8 * 60.0, rng.random(n) < 0.5,
    )


def _service_parts(fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, rng: np.random.Generator) -> Parts:
    jobs = [(i, job) for i, s in enumerate(fleet) for job in s.services]
    if not jobs:
        return _empty()
    inst = np.tile(np.array([i for i, _ in jobs], dtype=np.int32), cal.local_days)
    day = np.repeat(np.arange(cal.local_days, dtype=np.int32), len(jobs))
    hour = np.tile(np.array([j[0] for _, j in jobs]), cal.local_days)
    hours = np.tile(np.array([j[1] for _, j in jobs]), cal.local_days)
    every = np.tile(np.array([j[2] for _, j in jobs]), cal.local_days) * 60.0
    n = len(inst)
    parts = _parts(
        inst, day, SERVICE, _sids(rng, n), np.full(n, dims.service_user), np.full(n, dims.service_device),
        SERVICE_APP, APP_USER, CLIENT_CREDENTIALS, 1,
        cal.to_utc(inst, day, hour * HOUR + rng.uniform(0, 60, n)), hours * HOUR, 0.0, 0.0, np.zeros(n, bool),
    )
    # A scheduled job polls at a steady interval, give or take a few seconds.
    parts.gap_lo = every * 0.95
    parts.gap_hi = every * 1.05
    return parts


def _connector_parts(fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, rng: np.random.Generator) -> Parts:
    seats = np.array([s.app_seats for s in fleet], dtype=np.int16)
    has = np.flatnonzero(seats > 0)
    days = np.flatnonzero(cal.weekday)
    inst = np.tile(has, len(days)).astype(np.int32)
    day = np.repeat(days, len(has)).astype(np.int32)
    n = len(inst)
    start = 7.5 * HOUR + rng.uniform(0, 600, n)
    return _parts(
        inst, day, APP, _sids(rng, n), np.full(n, dims.connector_user), np.full(n, dims.connector_device),
        CONNECTOR_APP, APP_USER, PASSWORD, seats[inst],
        cal.to_utc(inst, day, start), 19 * HOUR - start, 5 * 60.0, 15 * 60.0, np.ones(n, bool),
    )


def _portal_parts(fleet: Sequence[InstanceSpec], cal: Calendar, dims: Dimensions, rng: np.random.Generator) -> Parts:
    rate = np.array([s.vir_rate for s in fleet])
    counts = rng.poisson(np.outer(np.where(cal.weekday, 1.0, 0.5), rate)).ravel()
    day = np.repeat(np.repeat(np.arange(cal.local_days, dtype=np.int32), len(fleet)), counts)
    inst = np.repeat(np.tile(np.arange(len(fleet), dtype=np.int32), cal.local_days), counts)
    n = len(inst)
    return _parts(
        inst, day, VIRTUAL, _sids(rng, n), np.full(n, dims.portal_user), np.full(n, dims.portal_device),
        PORTAL_APP, VIR, AUTH_CODE, 1,
        cal.to_utc(inst, day, _random_starts(rng, n)), np.minimum(rng.lognormal(np.log(8 * 60), 0.7, n), 3600.0),
        30.0, 4 * 60.0, rng.random(n) < 0.3,
    )


def _empty() -> Parts:
    e = np.zeros(0)
    return _parts(
        e.astype(np.int32), e.astype(np.int32), DESK, e.astype(np.int64), e, e, 0, INT, AUTH_CODE, 1,
        e.astype(np.int64), e, 0.0, 0.0, e.astype(bool),
    )
