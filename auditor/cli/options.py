"""Options that several commands share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.entitlements import ALLOW_EMPTY_FLAG
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


def allow_empty_entitlements_option(f: F) -> F:
    return click.option(
        ALLOW_EMPTY_FLAG,
        "allow_empty_entitlements",
        is_flag=True,
        help="Accept an --entitlements file with a header and no rows: every instance is then audited as unlicensed.",
    )(f)
