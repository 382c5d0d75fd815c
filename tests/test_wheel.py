"""The built wheel works on its own: installed into a fresh venv, run from outside the source tree.

The venv gets the wheel and nothing of the source tree; its third-party
dependencies come from the test interpreter's site-packages (a .pth file), so
the test runs offline and fast. That the SQL files ship inside the wheel is
proven by `auditor ingest` and `auditor sql` working from there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.ingest_support import event, write_events, write_lines


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(PROJECT_ROOT)], tmp_path, dict(os.environ))
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("auditor-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, {}).stdout.strip())
    # third-party packages from here; a .pth in a non-site dir is not processed, so our editable install is not seen
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)], tmp_path, dict(os.environ))
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = _run([str(python), "-c", "import auditor, auditor.resources as r; print(auditor.__file__); print(r.queries_dir())"], work, env)
    package_file, queries = where.stdout.split()
    assert package_file.startswith(str(env_dir)) and queries.startswith(str(env_dir)), where.stdout
    assert (Path(queries) / "ingest" / "stage.sql").is_file()

    write_events(work / "logs" / "a.jsonl.gz", [event(), event(ts="2026-10-01T09:00:00Z")], "gz")
    write_lines(work / "logs" / "b.csv", ["ts,instance,event,session_id", "2026-10-01T08:00:00Z,acme.my.erp.net,request,s1", "nonsense"])
    auditor = str(env_dir / "bin" / "auditor")
    ran = _run([auditor, "ingest", "--warehouse", "wh", "logs"], work, env)
    assert ran.returncode == 0, ran.stderr
    assert "accepted" in ran.stderr
    query = _run([auditor, "sql", "-w", "wh", "-f", "json", 'SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM rejects) AS rejects, (SELECT sum(duplicates) FROM ingest_log) AS duplicates'], work, env)
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == [{"events": 2, "rejects": 1, "duplicates": 1}]
    module = _run([str(python), "-m", "auditor", "--version"], work, env)
    assert module.returncode == 0 and "auditor" in module.stdout
