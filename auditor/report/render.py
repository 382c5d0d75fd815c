"""The one Jinja2 environment, its filters, and the inlining of the stylesheet.

Customer, user, device and application names come from the logs: autoescape is
on for every HTML page, and an undefined name is an error (StrictUndefined),
so a template cannot silently print nothing.
"""

from __future__ import annotations

import functools
import math
from datetime import date, datetime
from typing import Any

import css_inline
import jinja2

from auditor import timezones
from auditor.resources import templates_dir


def duration(seconds: float | None) -> str:
    """``2 h 05 min``, ``45 min``, ``30 s``; ``0`` for nothing."""
    if not seconds or seconds <= 0:
        return "0"
    total = int(math.floor(seconds + 0.5))
    if total < 60:
        return f"{total} s"
    minutes_total = total // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes:02d} min"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" + (f" {total % 60:02d} s" if total % 60 and minutes < 10 else "")


def local(instant: datetime | None, tz: str | None = None, fmt: str = "%a %d %b %H:%M") -> str:
    """An instant as local wall time (in TZ when given; already-local datetimes keep their zone)."""
    if instant is None:
        return "–"
    if tz:
        instant = instant.astimezone(timezones.zone(tz))
    return instant.strftime(fmt)


def clock(instant: datetime | None) -> str:
    return local(instant, None, "%H:%M:%S")


def day(value: date | None, fmt: str = "%a %d %b") -> str:
    return "–" if value is None else value.strftime(fmt)


def money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def percent(share: float) -> str:
    """A share as ``97.3%``, rounded down (coverage just short of complete is not shown as 100%)."""
    if share >= 1:
        return "100%"
    return f"{math.floor(max(share, 0.0) * 1000) / 10:.1f}%"


def dash(value: Any) -> Any:
    """Empty values as an en dash, so a table cell never looks broken."""
    return "–" if value is None or value == "" else value


FILTERS = {
    "duration": duration,
    "local": local,
    "clock": clock,
    "day": day,
    "money": money,
    "plural": plural,
    "dash": dash,
    "percent": percent,
}


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        # Every page is HTML except the e-mail's plain-text part.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml"), disabled_extensions=("txt",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def inline_css(html: str) -> str:
    """Move the page's <style> rules into style attributes (what Gmail and Outlook honour)."""
    return css_inline.inline(html, load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False)


def render_page(template: str, **context: Any) -> str:
    """An HTML page, rendered and with its stylesheet inlined."""
    return inline_css(render(template, **context))
