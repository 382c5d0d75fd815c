"""Options that several commands share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.limits import DEFAULT_MAX_LINE_BYTES
from auditor.warehouse import ENV_VAR

F = TypeVar("F", bound=Callable[..., Any])


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


def max_line_bytes_option(f: F) -> F:
    return click.option(
        "--max-line-bytes",
        type=int,
        default=DEFAULT_MAX_LINE_BYTES,
        show_default=True,
        metavar="N",
        help="A longer input line (line break included) is rejected as too long, keeping only its start.",
    )(f)
