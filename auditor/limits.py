"""The bounds of what auditor accepts, each stated once.

Input that lies beyond them is not an error of the tool but of the data or the
command line: ingest sets such lines aside with their own reason, and a date or
number outside them on the command line or in a file the user names is a usage
error (exit 2). The values are far from anything real and far from what would
overflow, so that no accepted value can make a later stage fail.
"""

from __future__ import annotations

from datetime import date, timedelta

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


def check_date(value: date, what: str) -> date:
    """VALUE, or a UsageError naming WHAT when it lies outside [FIRST_DATE, LAST_DATE]."""
    if not FIRST_DATE <= value <= LAST_DATE:
        raise UsageError(f"{what} {value.isoformat()} is out of range; give a date from {FIRST_DATE} to {LAST_DATE}")
    return value


def check_max_line_bytes(value: int) -> int:
    """VALUE, or a UsageError when it lies outside [SMALLEST_MAX_LINE_BYTES, LARGEST_MAX_LINE_BYTES]."""
    if not SMALLEST_MAX_LINE_BYTES <= value <= LARGEST_MAX_LINE_BYTES:
        raise UsageError(
            f"--max-line-bytes {value} is out of range; give a number of bytes from "
            f"{SMALLEST_MAX_LINE_BYTES} to {LARGEST_MAX_LINE_BYTES} (default {DEFAULT_MAX_LINE_BYTES})"
        )
    return value
