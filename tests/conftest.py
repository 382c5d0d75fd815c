"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import budget  # noqa: F401  (the hypothesis profile for every test)
from auditor.cli import cli

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = PROJECT_ROOT / "sample_data"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    """Run the CLI; returns the click Result (stdout and stderr kept apart)."""

    def _invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)

    return _invoke


@pytest.fixture
def warehouse_dir(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"
