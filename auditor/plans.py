"""The plan catalogue: each plan's base sessions, maximum and extra-session price.

A TOML file the compliance team edits (``--plans FILE``); the built-in one,
``auditor/plans_default.toml``, knows Small Business Basic and Advanced::

    [plans.small-business-basic]
    base_sessions = 3
    max_sessions = 35
    extra_session_monthly_price = 12.5   # optional
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError
from auditor.limits import MAX_PLAN_SESSIONS, MAX_SESSION_PRICE

DEFAULT_PLANS_FILE = Path(__file__).resolve().parent / "plans_default.toml"
_KEYS = {"base_sessions", "max_sessions", "extra_session_monthly_price"}


@dataclass(frozen=True)
class Plan:
    name: str
    base_sessions: int
    max_sessions: int
    extra_session_monthly_price: float | None = None


@dataclass(frozen=True)
class PlanCatalogue:
    plans: dict[str, Plan]
    source: str
    sha256: str
    #: The file's text, kept in the warehouse so that later reports use the same prices.
    text: str = ""

    def get(self, name: str) -> Plan | None:
        return self.plans.get(name)


class PlansFileError(UsageError):
    """The plan catalogue cannot be used; the message names file, line and fix."""


def load_plans(path: Path | None = None) -> PlanCatalogue:
    """Read the catalogue at PATH (the built-in one when None)."""
    path = Path(path) if path is not None else DEFAULT_PLANS_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlansFileError(f"cannot read the plans file {path}: {exc.strerror or exc}") from None
    return parse_plans(raw, str(path))


def parse_plans(raw: bytes, source: str) -> PlanCatalogue:
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise PlansFileError(f"{source}: the plans file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlansFileError(f"{source}: not valid TOML: {exc}") from None
    unknown_top = sorted(set(data) - {"plans"})
    if unknown_top:
        raise PlansFileError(
            f"{source}:{_line_of(text, unknown_top[0])}: unknown setting {unknown_top[0]!r}; "
            "the file holds only [plans.NAME] tables"
        )
    tables = data.get("plans")
    if not isinstance(tables, dict) or not tables:
        raise PlansFileError(f"{source}: no plans; add a [plans.NAME] table with base_sessions and max_sessions")
    plans: dict[str, Plan] = {}
    for name, body in tables.items():
        where = f"{source}:{_line_of(text, name)}"
        if not isinstance(body, dict):
            raise PlansFileError(f"{where}: plan {name!r} must be a table [plans.{name}]")
        extra = sorted(set(body) - _KEYS)
        if extra:
            raise PlansFileError(
                f"{where}: plan {name!r} has unknown key {extra[0]!r}; allowed: {', '.join(sorted(_KEYS))}"
            )
        base = body.get("base_sessions")
        maximum = body.get("max_sessions")
        price = body.get("extra_session_monthly_price")
        if not _is_int(base) or base < 0:
            raise PlansFileError(f"{where}: plan {name!r} needs base_sessions, a whole number >= 0")
        if base > MAX_PLAN_SESSIONS:
            raise PlansFileError(
                f"{where}: plan {name!r}: base_sessions {base} is above {MAX_PLAN_SESSIONS:,}, the most a plan may have"
            )
        if not _is_int(maximum) or maximum < base:
            raise PlansFileError(
                f"{where}: plan {name!r} needs max_sessions, a whole number >= base_sessions ({base})"
            )
        if maximum > MAX_PLAN_SESSIONS:
            raise PlansFileError(
                f"{where}: plan {name!r}: max_sessions {maximum} is above {MAX_PLAN_SESSIONS:,}, the most a plan may have"
            )
        # `not 0 <= price <= ...` also refuses nan and inf, which TOML allows.
        if price is not None and (
            isinstance(price, bool) or not isinstance(price, (int, float)) or not 0 <= price <= MAX_SESSION_PRICE
        ):
            raise PlansFileError(
                f"{where}: plan {name!r}: extra_session_monthly_price must be a number from 0 to {MAX_SESSION_PRICE:,}"
            )
        plans[name] = Plan(name, int(base), int(maximum), None if price is None else float(price))
    return PlanCatalogue(plans, source, hashlib.sha256(raw).hexdigest(), text)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _line_of(text: str, name: str) -> int:
    """The line of ``[plans.NAME]`` (or of NAME as a key), for error messages."""
    pattern = re.compile(r'^[ \t]*\[?[ \t]*(plans[ \t]*\.[ \t]*)?["\']?' + re.escape(name) + r'["\']?[ \t]*[\].=]', re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1
