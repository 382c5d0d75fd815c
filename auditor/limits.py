"""The bounds of what auditor accepts, each stated once.

Input that lies beyond them is not an error of the tool but of the data or the
command line: ingest sets such lines aside with their own reason, and a date or
number outside them on the command line or in a file the user names is a usage
error (exit 2). The values are far from anything real and far from what would
overflow, so that no accepted value can make a later stage fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from auditor.errors import UsageError

#: Events before this instant are implausible (ERP.net instances log in this century); the
#: default of ``ingest --not-before``.
DEFAULT_NOT_BEFORE = date(2000, 1, 1)
#: Events later than the ingest run's own clock plus this are in the future; the default of
#: ``ingest --max-ahead``.
DEFAULT_MAX_AHEAD = timedelta(days=1)
#: The largest seat weight of one session: far above any plan's 35 sessions, far below what
#: summing millions of them could overflow.
MAX_SEATS = 1000
#: A line longer than this (bytes, line break included) is one reject; ``ingest --max-line-bytes``.
DEFAULT_MAX_LINE_BYTES = 1 << 20
#: ``--max-line-bytes`` may not exceed this: a batch of lines must stay far below 2 GiB.
LARGEST_MAX_LINE_BYTES = 256 << 20
#: ``--max-line-bytes`` may not be below this: every event of the contract fits in it.
SMALLEST_MAX_LINE_BYTES = 1 << 10
#: Calendar dates given anywhere else (entitlements, audit and report periods): wide enough
#: for any contract, narrow enough that every time zone's midnight is an instant Python,
#: Arrow and DuckDB all represent.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)
#: The longest period one report covers (``report --from/--to``), in local days: ten years.
#: A report draws and tabulates every day of its period: centuries of days would take
#: very long and very much memory, even for one instance.
MAX_REPORT_DAYS = 3660
#: The most processes `auditor report --jobs` may start (each a Python process of its own).
MAX_REPORT_JOBS = 64
#: The largest number of sessions the plan catalogue and the entitlements may name (a plan's
#: base_sessions and max_sessions, a row's extra_sessions, and so any seat limit): far above
#: any plan's 35, far below what the warehouse's 32-bit columns hold.
MAX_PLAN_SESSIONS = 100_000
#: The largest monthly price of one extra session in the plan catalogue: no real price comes
#: near it, and a recommendation's cost (price times sessions) keeps its cents.
MAX_SESSION_PRICE = 1_000_000


def check_date(value: date, what: str) -> date:
    """VALUE, or a UsageError naming WHAT when it lies outside [FIRST_DATE, LAST_DATE]."""
    if not FIRST_DATE <= value <= LAST_DATE:
        raise UsageError(f"{what} {value.isoformat()} is out of range; give a date from {FIRST_DATE} to {LAST_DATE}")
    return value


@dataclass(frozen=True)
class EventWindow:
    """The instants an accepted event may carry: [not_before, not_after]."""

    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class InputBounds:
    """What ingest accepts of an input line: its length, and its event's instant relative to the run's clock."""

    not_before: date = DEFAULT_NOT_BEFORE
    max_ahead: timedelta = DEFAULT_MAX_AHEAD
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES

    def __post_init__(self) -> None:
        check_date(self.not_before, "--not-before")
        if not timedelta(0) <= self.max_ahead <= timedelta(days=3650):
            raise UsageError(f"--max-ahead {self.max_ahead} is out of range; give a duration from 0 to 3650 days, e.g. 1d")
        if not SMALLEST_MAX_LINE_BYTES <= self.max_line_bytes <= LARGEST_MAX_LINE_BYTES:
            raise UsageError(
                f"--max-line-bytes {self.max_line_bytes} is out of range; give a number of bytes from "
                f"{SMALLEST_MAX_LINE_BYTES} to {LARGEST_MAX_LINE_BYTES} (default {DEFAULT_MAX_LINE_BYTES})"
            )

    def window(self, now: datetime) -> EventWindow:
        """The window of a run whose clock reads NOW: from NOT_BEFORE (UTC midnight) to NOW + MAX_AHEAD."""
        start = datetime.combine(self.not_before, time(0), tzinfo=timezone.utc)
        end = now.astimezone(timezone.utc) + self.max_ahead
        if end <= start:
            raise UsageError(f"--not-before {self.not_before} is not before the run's clock plus --max-ahead ({end:%Y-%m-%d %H:%M}Z)")
        return EventWindow(start, end)
