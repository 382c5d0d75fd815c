"""Options that several commands share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.durations import parse_duration
from auditor.entitlements import ALLOW_EMPTY_FLAG
from auditor.limits import DEFAULT_MAX_LINE_BYTES, DEFAULT_NOT_BEFORE, InputBounds
from auditor.warehouse import ENV_VAR

F = TypeVar("F", bound=Callable[..., Any])


class Duration(click.ParamType):
    """A duration like 90s, 15m, 1h, 1h30m, 1d, or a number of seconds."""

    name = "duration"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def warehouse_option(f: F) -> F:
    return click.option(
        "--warehouse",
        "-w",
        type=click.Path(path_type=Path, file_okay=False),
        envvar=ENV_VAR,
        default="warehouse",
        show_default=True,
        show_envvar=True,
        help="The warehouse directory.",
    )(f)


def quiet_option(f: F) -> F:
    return click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")(f)


def input_bounds_options(f: F) -> F:
    """--not-before, --max-ahead and --max-line-bytes, handed to the command as one ``bounds`` (InputBounds)."""

    @functools.wraps(f)
    def command(*args: Any, not_before: datetime, max_ahead: timedelta, max_line_bytes: int, **kwargs: Any) -> Any:
        bounds = InputBounds(not_before.date(), max_ahead, max_line_bytes)
        return f(*args, bounds=bounds, **kwargs)

    for option in (
        click.option(
            "--max-line-bytes", type=int, default=DEFAULT_MAX_LINE_BYTES, show_default=True, metavar="N",
            help="A longer input line (line break included) is rejected as too long, keeping only its start.",
        ),
        click.option(
            "--max-ahead", type=Duration(), default="1d", show_default=True,
            help="Reject events later than the run's clock plus this (a clock gone wrong).",
        ),
        click.option(
            "--not-before", type=click.DateTime(["%Y-%m-%d"]), default=DEFAULT_NOT_BEFORE.isoformat(),
            show_default=True, metavar="DATE", help="Reject events before this UTC date.",
        ),
    ):
        command = option(command)
    return command  # type: ignore[return-value]


def allow_empty_entitlements_option(f: F) -> F:
    return click.option(
        ALLOW_EMPTY_FLAG,
        "allow_empty_entitlements",
        is_flag=True,
        help="Accept an --entitlements file with a header and no rows: every instance is then audited as unlicensed.",
    )(f)
