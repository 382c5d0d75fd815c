"""Report periods: a calendar month or a range of local days, per instance time zone.

A period is a range of local days [first_day, end_day); its instants depend on
the instance's time zone (local midnight to local midnight), so the same
period covers different UTC instants for instances in different zones.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from auditor import timezones
from auditor.errors import UsageError

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    first_day: date
    #: Exclusive.
    end_day: date

    @property
    def is_month(self) -> bool:
        return self.first_day.day == 1 and self.end_day == _next_month(self.first_day)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def key(self) -> str:
        """A file-name friendly label: ``2026-10`` or ``2026-10-01_2026-10-14`` (last day inclusive)."""
        if self.is_month:
            return self.first_day.strftime("%Y-%m")
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"

    @property
    def title(self) -> str:
        """For people: ``October 2026`` or ``1 Oct 2026 – 14 Oct 2026``."""
        if self.is_month:
            return f"{calendar.month_name[self.first_day.month]} {self.first_day.year}"
        if self.first_day == self.last_day:
            return _day_title(self.first_day)
        return f"{_day_title(self.first_day)} – {_day_title(self.last_day)}"

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """The period's instants in TZ as UTC datetimes: [local midnight of first_day, of end_day)."""
        return timezones.local_midnight(self.first_day, tz), timezones.local_midnight(self.end_day, tz)


def _day_title(day: date) -> str:
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year}"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_period(text: str) -> Period:
    """``YYYY-MM`` as a Period; a UsageError says what is wrong."""
    match = _MONTH_RE.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) == 0:
        raise UsageError(f"--period {text!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    return Period(first, _next_month(first))


def range_period(first_day: date, end_day: date) -> Period:
    """[first_day, end_day) as a Period (end exclusive, as in ``auditor audit``)."""
    if end_day <= first_day:
        raise UsageError(f"--to {end_day} must be after --from {first_day} (the period is [from, to))")
    return Period(first_day, end_day)


def last_full_month(first_local_day: date, last_local_day: date) -> Period:
    """The latest calendar month that the local days [first, last] cover entirely.

    The data covers a local day when it has an event that day. When no month is
    covered entirely (less than a month of data), the month of the last day:
    the report then says the data covers part of the period.
    """
    month = date(last_local_day.year, last_local_day.month, 1)
    candidate = Period(month, _next_month(month))
    if candidate.last_day > last_local_day:
        previous = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
        earlier = Period(previous, month)
        if earlier.first_day >= first_local_day:
            return earlier
    return candidate


def local_day(instant: datetime, tz: str) -> date:
    return timezones.local_date(instant, tz)
