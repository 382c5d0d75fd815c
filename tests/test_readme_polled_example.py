"""The README's worked example of a polled instance runs as written and prints what it shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

SECTION = "### Worked example: a polled instance"


def example_steps() -> list[tuple[str, str | None]]:
    """The section's commands, each with the output block that follows it (None: not shown)."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)
    steps: list[tuple[str, str | None]] = []
    for kind, body in blocks:
        if kind == "bash":
            steps.extend((line, None) for line in body.strip().splitlines())
        else:
            command, _ = steps[-1]
            steps[-1] = (command, body)
    return steps


def test_the_readme_shows_the_whole_example() -> None:
    steps = example_steps()
    assert [c.split()[1] for c, _ in steps] == ["ingest", "audit", "sql", "sql", "sql"]
    assert all(out is not None for c, out in steps if c.split()[1] == "sql")


def test_the_polled_example_runs_as_written(invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    for command, shown in example_steps():
        args = shlex.split(command.replace("-w wh", f"-w {tmp_path / 'wh'}"))
        assert args[0] == "auditor"
        result = invoke(*args[1:])
        assert result.exit_code == 0, (command, result.stderr)
        if shown is not None:
            assert result.stdout.rstrip("\n") == shown.rstrip("\n"), command
