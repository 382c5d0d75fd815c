"""The generated fleet: each instance's licence, time zone and behaviour.

An ``InstanceSpec`` says how an instance is licensed (its entitlement rows) and
how it behaves (how many people work on it, which services and external
applications it runs, whether the server refuses logins when it is full). The
random fleet used at scale and the hand-written sample fleet are both lists of
these.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from auditor.generate import names

PLAN_BASE = {"small-business-basic": 3, "small-business-advanced": 5}
PLAN_MAXIMUM = 35

ENTITLEMENT_COLUMNS = (
    "instance", "customer", "plan", "extra_sessions", "valid_from", "valid_to", "timezone", "account_manager",
)

# Time zones of the random fleet and how common each is. Several observe
# daylight saving (Sydney's changes in October, the EU's and the US's around
# the turn of October/November), so month-long runs cross a change.
TIMEZONES = (
    ("UTC", 0.12),
    ("Europe/Sofia", 0.24),
    ("Europe/Berlin", 0.14),
    ("Europe/London", 0.10),
    ("America/New_York", 0.16),
    ("America/Chicago", 0.08),
    ("America/Los_Angeles", 0.06),
    ("Asia/Dubai", 0.05),
    ("Australia/Sydney", 0.05),
)


@dataclass(frozen=True)
class EntitlementChange:
    """From local midnight of ``on``, the instance is on ``plan`` with ``extra_sessions``."""

    on: date
    plan: str
    extra_sessions: int


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    customer: str
    timezone: str
    #: None: the instance has events but no entitlement (unlicensed).
    plan: str | None
    extra_sessions: int
    #: People with a working-day session on a desktop or web client (two parts, around lunch).
    desk_users: int
    #: Further people who only connect now and then (mobile, web).
    casual_users: int
    #: Short sessions per weekday (any user, usually mobile or web).
    casual_rate: float
    #: The server refuses a login that would take counted seats above the seat
    #: limit plus this; None: it never refuses (so the instance can breach).
    enforce_excess: int | None = 0
    #: Client-credentials jobs: (local start hour, hours, minutes between requests).
    services: tuple[tuple[float, float, float], ...] = ()
    #: Seats of the external application that runs through working hours (0: none).
    app_seats: int = 0
    #: Sessions of the portal's virtual user per weekday (0: no portal).
    vir_rate: float = 0.0
    #: Chance of a restart per day (at night, sometimes in the day).
    restart_rate: float = 0.0
    #: Restarts at fixed local moments: (day index from the start, local hour).
    restarts: tuple[tuple[int, float], ...] = ()
    change: EntitlementChange | None = None
    contract_start: date = date(2026, 1, 1)
    account_manager: str = ""
    #: Licence-term behaviours planted on purpose (``auditor.generate.plants``): finding kinds and look-alikes.
    plant: tuple[str, ...] = ()

    def seat_limit(self, day: date) -> int | None:
        """The seat limit in force on local DAY (None when unlicensed)."""
        if self.plan is None:
            return None
        if self.change is not None and day >= self.change.on:
            return PLAN_BASE[self.change.plan] + self.change.extra_sessions
        return PLAN_BASE[self.plan] + self.extra_sessions

    def entitlement_rows(self) -> list[dict[str, str]]:
        if self.plan is None:
            return []
        common = {
            "instance": self.name,
            "customer": self.customer,
            "timezone": "" if self.timezone == "UTC" else self.timezone,
            "account_manager": self.account_manager,
        }
        first = {
            **common,
            "plan": self.plan,
            "extra_sessions": str(self.extra_sessions),
            "valid_from": self.contract_start.isoformat(),
            "valid_to": "",
        }
        if self.change is None:
            return [first]
        first["valid_to"] = self.change.on.isoformat()
        second = {
            **common,
            "plan": self.change.plan,
            "extra_sessions": str(self.change.extra_sessions),
            "valid_from": self.change.on.isoformat(),
            "valid_to": "",
        }
        return [first, second]


def write_entitlements(path: Path, fleet: Sequence[InstanceSpec]) -> None:
    """The compliance team's entitlements CSV for FLEET (unlicensed instances have no row)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=ENTITLEMENT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for spec in sorted(fleet, key=lambda s: s.name):
            writer.writerows(spec.entitlement_rows())


def random_fleet(rng: np.random.Generator, count: int, start: date, days: int) -> list[InstanceSpec]:
    """COUNT instances drawn from the mix a small-business portfolio shows.

    Most are comfortably below their limit; about a fifth are full (the server
    refuses logins at the limit), about a fifth breach it (the server enforced a
    higher count, or none), a few have no entitlement at all, and one in ten
    bought add-on sessions during the period.
    """
    tz_names = [tz for tz, _ in TIMEZONES]
    tz_weights = np.array([w for _, w in TIMEZONES])
    tz_pick = rng.choice(len(tz_names), size=count, p=tz_weights / tz_weights.sum())
    advanced = rng.random(count) < 0.4
    # Most small businesses buy a few add-ons; a long tail buys many.
    extra = np.minimum(rng.geometric(0.4, size=count) - 1, 30)
    profile = rng.choice(4, size=count, p=[0.62, 0.16, 0.18, 0.04])  # below, full, breach, unlicensed
    u = rng.random((count, 10))
    fleet = []
    for i in range(count):
        plan = "small-business-advanced" if advanced[i] else "small-business-basic"
        limit = PLAN_BASE[plan] + int(extra[i])
        kind = int(profile[i])
        if kind == 0:
            desk = max(1, round(limit * (0.15 + 0.25 * u[i, 0])))
            enforce: int | None = 0
        elif kind == 1:
            desk = max(1, limit - 2 + int(u[i, 0] * 2))
            enforce = 0
        else:
            desk = limit - 1 + int(u[i, 0] * 3)
            enforce = None if u[i, 1] < 0.5 else 2 + int((u[i, 1] - 0.5) * 8)
        casual_users = max(1, desk // 2)
        services: tuple[tuple[float, float, float], ...] = ()
        if u[i, 2] < 0.4:
            services = ((6.0 + round(u[i, 3] * 12, 2), 1.25 + round(u[i, 4] * 1.5, 2), 6.0),)
        change = None
        if kind in (0, 1) and u[i, 5] < 0.1 and days > 2:
            on = date.fromordinal(start.toordinal() + 1 + int(u[i, 6] * (days - 1)))
            change = EntitlementChange(on, plan, min(int(extra[i]) + 1 + int(u[i, 7] * 4), PLAN_MAXIMUM - PLAN_BASE[plan]))
        fleet.append(
            InstanceSpec(
                name=names.host_name(i),
                customer=names.customer_name(i),
                timezone=tz_names[int(tz_pick[i])],
                plan=None if kind == 3 else plan,
                extra_sessions=int(extra[i]),
                desk_users=desk,
                casual_users=casual_users,
                casual_rate=0.4 * (desk + casual_users),
                enforce_excess=None if kind == 3 else enforce,
                services=services,
                app_seats=2 + int(u[i, 9] * 4) if u[i, 8] < 0.08 else 0,
                vir_rate=4.0 if u[i, 8] > 0.7 else 0.0,
                restart_rate=0.03,
                change=change,
                contract_start=date(start.year - 1, 1 + i % 12, 1),
                account_manager=names.ACCOUNT_MANAGERS[i % len(names.ACCOUNT_MANAGERS)],
                plant=_plant_for(i, kind),
            )
        )
    return fleet


def _plant_for(i: int, profile: int) -> tuple[str, ...]:
    """What instance I plants (``auditor.generate.plants``): each finding kind and each look-alike in about 2%.

    Chosen by position, not drawn, so that planting leaves the random draws, and so every other
    instance's data, as they were. Logout cycling and its slow look-alike go to instances that run at
    or above their limit most of the day (profile 2), quick re-logins to instances well below it (profile 0).
    """
    if profile == 2:
        return {0: ("logout_cycling",), 1: ("slow_relogin",)}.get(i % 6, ())
    if profile == 3:
        return ()
    plant = {0: ("shared_session_devices",), 1: ("shared_session_users",), 2: ("parallel_requests",),
             3: ("parallel_once",)}.get(i % 50, ())
    if profile == 0 and i % 50 == 4:
        plant = ("quick_relogin",)
    return plant
