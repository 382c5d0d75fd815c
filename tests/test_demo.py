"""``auditor demo``: the nightly flow over the shipped sample data, re-runnable, from a wheel.

The demo runs once, from the installed wheel (the session's ``installed_wheel``),
with no source tree in sight; every check of its output reads that one run.
Re-running is checked on a two-day sample, which shows the same rebuild for a
fraction of the time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditor.demo import MARKER, prepare, sample_data_dir
from auditor.errors import UsageError
from auditor.sqlquery import run_sql
from auditor.warehouse import Warehouse

from conftest import SAMPLE_DATA


def summary(warehouse: Path) -> dict[str, dict]:
    result = run_sql(Warehouse.open(warehouse), "SELECT * FROM instance_summary ORDER BY instance", {})
    return {row[0]: dict(zip(result.columns, row)) for row in result.rows}


def scalar(warehouse: Path, query: str):
    return run_sql(Warehouse.open(warehouse), query, {}).rows[0][0]


@pytest.fixture(scope="module")
def demo_run(installed_wheel, tmp_path_factory: pytest.TempPathFactory):
    """`auditor demo` from the installed wheel, in an empty folder: its default output folder and what it printed."""
    work = tmp_path_factory.mktemp("demo")
    result = installed_wheel.run("demo", cwd=work)
    return work / "demo-output", result


def test_demo_prints_where_its_output_is(demo_run) -> None:
    out, result = demo_run
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str((out / "warehouse").absolute()), str((out / "reports" / "index.html").absolute())]
    assert "31 nights, 72657 lines accepted (events and polls), 9 rejected, 37 duplicates" in result.stderr
    assert (out / MARKER).is_file()


def test_demo_renders_a_report_per_instance_and_the_overview(demo_run) -> None:
    out, _ = demo_run
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    reports = sorted(p for p in (out / "reports").rglob("*.html") if p.name != "index.html")
    assert len(reports) == 11
    for name in summary(out / "warehouse"):
        assert name in index
    assert "Neil &amp; Vandelay Ltd" in index and "Café Wonka &amp; Söhne GmbH" in index


def test_demo_ingests_every_day_night_by_night(demo_run) -> None:
    out, _ = demo_run
    wh = out / "warehouse"
    assert scalar(wh, "SELECT count(*) FROM events") == 63028
    assert scalar(wh, "SELECT count(*) FROM rejects") == 9
    # the logs' 6 duplicate events and the snapshot files' 31 lines written twice (sample_data/README.md)
    assert scalar(wh, "SELECT sum(duplicates)::INT FROM ingest_log") == 37
    # 31 day logs and 93 snapshot files
    assert scalar(wh, "SELECT count(DISTINCT file) FROM ingest_log") == 124
    assert scalar(wh, "SELECT count(*) FROM polls") == 8920
    assert scalar(wh, "SELECT count(*) FROM nightly_runs") == 31
    # The rejected lines are the ones sample_data/README.md lists.
    rejected = run_sql(Warehouse.open(wh), "SELECT regexp_extract(file, '[^/]+$'), line FROM rejects ORDER BY ALL", {}).rows
    assert rejected == [
        ("2026-10-05.jsonl", 11), ("2026-10-05.jsonl", 21), ("2026-10-05.jsonl", 31), ("2026-10-05.jsonl", 41),
        ("2026-10-05.jsonl", 51), ("2026-10-05.jsonl", 61), ("2026-10-14.jsonl.gz", 6), ("2026-10-22.csv", 16),
        ("2026-10-22.csv", 26),
    ]


def test_demo_audit_shows_what_the_sample_readme_promises(demo_run) -> None:
    out, _ = demo_run
    s = summary(out / "warehouse")
    assert len(s) == 11
    assert s["acme.my.erp.net"]["status"] == "compliant" and s["acme.my.erp.net"]["denials"] > 0
    assert s["acme.my.erp.net"]["peak_seats"] == s["acme.my.erp.net"]["seat_limit"] == 7
    assert s["initech.my.erp.net"]["peak_seats"] == s["initech.my.erp.net"]["seat_limit"] == 3
    assert s["initech.my.erp.net"]["denials"] > 0
    for name in ("northwind.my.erp.net", "umbrella.my.erp.net"):
        assert s[name]["status"] == "breach" and s[name]["breach_count"] > 0
    assert s["umbrella.my.erp.net"]["peak_seats"] - s["umbrella.my.erp.net"]["seat_limit"] == 3
    assert s["stark.my.erp.net"]["status"] == "beyond_plan_maximum"
    assert s["hooli.my.erp.net"]["status"] == "unlicensed"
    for name in ("globex.my.erp.net", "wonka.my.erp.net", "vandelay.my.erp.net", "tyrell.my.erp.net"):
        assert s[name]["status"] == "compliant" and s[name]["peak_seats"] < s[name]["seat_limit"], name
    reasons = {r[0] for r in run_sql(Warehouse.open(out / "warehouse"), "SELECT DISTINCT end_reason FROM sessions", {}).rows}
    assert reasons >= {"logout", "idle_timeout", "absolute_expiry", "restart"}
    assert scalar(out / "warehouse", "SELECT count(*) FROM sessions WHERE NOT counted") > 0  # the portals' virtual user


def test_demo_audits_the_polled_instance_in_bounds(demo_run) -> None:
    out, _ = demo_run
    wh = out / "warehouse"
    polled = summary(wh)["cyberdyne.my.erp.net"]
    # the sample's truth peaks at 7 over a limit of 6 (sample_data/README.md): the bounds hold it
    assert polled["seat_limit"] == 6
    assert polled["peak_seats_min"] <= 7 <= polled["peak_seats"]
    assert polled["status"] == "breach" and 0 < polled["certain_breach_count"] < polled["breach_count"]
    assert 0.9 < polled["coverage"] < 1.0
    reasons = {r[0] for r in run_sql(Warehouse.open(wh), "SELECT DISTINCT end_reason FROM sessions WHERE source = 'poll'", {}).rows}
    assert reasons >= {"vanished", "absolute_expiry", "unseen"}
    assert scalar(wh, "SELECT count(*) FROM sessions WHERE uncounted_reason = 'collector'") > 0
    assert scalar(wh, "SELECT count(*) FROM coverage_gaps WHERE instance = 'cyberdyne.my.erp.net'") > 0


def test_demo_runs_again_into_its_own_directory(invoke, tmp_path: Path, monkeypatch) -> None:
    small = tmp_path / "sample"
    (small / "logs").mkdir(parents=True)
    for name in ("entitlements.csv", "plans.toml"):
        shutil.copy(SAMPLE_DATA / name, small / name)
    for day in sorted((SAMPLE_DATA / "logs").iterdir())[:2]:
        shutil.copy(day, small / "logs" / day.name)
    monkeypatch.setattr("auditor.demo.sample_data_dir", lambda: small)
    out = tmp_path / "out"
    first = invoke("demo", "--out", out)
    assert first.exit_code == 0, first.stderr
    before = summary(out / "warehouse")
    (out / "reports" / "stale.txt").write_text("from an earlier run")
    again = invoke("demo", "--quiet", "--out", out)
    assert again.exit_code == 0, again.stderr
    assert again.stderr == ""
    assert again.stdout == first.stdout
    assert summary(out / "warehouse") == before
    assert scalar(out / "warehouse", "SELECT count(*) FROM nightly_runs") == 2
    assert not (out / "reports" / "stale.txt").exists()


def test_demo_never_touches_a_directory_it_did_not_create(invoke, tmp_path: Path) -> None:
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / "precious.txt").write_text("keep me")
    result = invoke("demo", "--out", tmp_path)
    assert result.exit_code == 2
    assert "was not created by `auditor demo`" in result.stderr
    assert (tmp_path / "warehouse" / "precious.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    assert invoke("demo", "--out", tmp_path / "file").exit_code == 2


def test_prepare_clears_only_what_the_demo_wrote(tmp_path: Path) -> None:
    prepare(tmp_path)
    for name in ("warehouse", "incoming", "reports"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "old").write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    prepare(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "notes.txt"]
    with pytest.raises(UsageError):
        prepare(tmp_path / "notes.txt")


def test_sample_data_is_found_in_the_checkout() -> None:
    assert sample_data_dir() == SAMPLE_DATA


def test_demo_runs_from_the_installed_wheel_with_its_own_sample_data(demo_run, installed_wheel) -> None:
    out, _ = demo_run
    where = installed_wheel.run("python", "-c", "from auditor.demo import sample_data_dir; print(sample_data_dir())", cwd=out.parent)
    assert where.stdout.strip().startswith(str(installed_wheel.venv)), where.stdout + where.stderr
    count = installed_wheel.run("sql", "-w", "demo-output/warehouse", "-f", "json", "SELECT count(*) AS n FROM events", cwd=out.parent)
    assert json.loads(count.stdout) == [{"n": 63028}]
