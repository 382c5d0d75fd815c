"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
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


@dataclass(frozen=True)
class InstalledWheel:
    """auditor built as a wheel and installed into a venv of its own, away from the source tree."""

    venv: Path
    home: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, *args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run ``auditor ARGS`` (or ``python ARGS`` when the first is "python") from the installed wheel in CWD."""
        program = [str(self.python), *args[1:]] if args and args[0] == "python" else [str(self.venv / "bin" / "auditor"), *args]
        env = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(self.home)}
        return subprocess.run(program, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """The wheel, built and installed once per test run.

    The venv gets the wheel and nothing of the source tree; its third-party
    dependencies come from the test interpreter's site-packages (a .pth file), so
    the tests run offline and fast.
    """
    root = tmp_path_factory.mktemp("wheel")

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=root, env=dict(os.environ), capture_output=True, text=True, timeout=600)

    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(PROJECT_ROOT)])
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "dist").glob("auditor-*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, env={}).stdout.strip())
    # third-party packages from here; a .pth in a non-site dir is not processed, so our editable install is not seen
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr
    return InstalledWheel(env_dir, root)
