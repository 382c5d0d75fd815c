"""Durations written by people: 90s, 15m, 1h, 1h30m, 1d, or a number of seconds.

One parser for the command line (``auditor.cli.options.Duration``) and the
collector's configuration file.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")

#: What a duration looks like, for error messages.
DURATION_HINT = "write e.g. 90s, 15m, 1h, 1h30m or 1d"


def parse_duration(value: object) -> timedelta:
    """VALUE (text, or a number of seconds) as a timedelta; ValueError with a one-line reason otherwise."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; {DURATION_HINT}")
    text = str(value).strip().lower()
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration; {DURATION_HINT}")
    days, hours, minutes, seconds = match.groups()
    try:
        return timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0))
    except OverflowError:
        raise ValueError(f"{value!r} is too long a duration") from None
