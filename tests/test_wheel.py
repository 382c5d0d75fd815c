"""The built wheel works on its own: installed into a fresh venv, run from outside the source tree.

The venv (the session's ``installed_wheel``) gets the wheel and nothing of the
source tree. That the SQL files ship inside the wheel is proven by `auditor
ingest` and `auditor sql` working from there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest_support import event, write_events, write_lines


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(installed_wheel, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = installed_wheel.run("python", "-c", "import auditor, auditor.resources as r; print(auditor.__file__); print(r.queries_dir())", cwd=work)
    package_file, queries = where.stdout.split()
    venv = str(installed_wheel.venv)
    assert package_file.startswith(venv) and queries.startswith(venv), where.stdout
    assert (Path(queries) / "ingest" / "stage.sql").is_file()

    write_events(work / "logs" / "a.jsonl.gz", [event(), event(ts="2026-10-01T09:00:00Z")], "gz")
    write_lines(work / "logs" / "b.csv", ["ts,instance,event,session_id", "2026-10-01T08:00:00Z,acme.my.erp.net,request,s1", "nonsense"])
    ran = installed_wheel.run("ingest", "--warehouse", "wh", "logs", cwd=work)
    assert ran.returncode == 0, ran.stderr
    assert "accepted" in ran.stderr
    query = installed_wheel.run("sql", "-w", "wh", "-f", "json", 'SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM rejects) AS rejects, (SELECT sum(duplicates) FROM ingest_log) AS duplicates', cwd=work)
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == [{"events": 2, "rejects": 1, "duplicates": 1}]
    module = installed_wheel.run("python", "-m", "auditor", "--version", cwd=work)
    assert module.returncode == 0 and "auditor" in module.stdout
