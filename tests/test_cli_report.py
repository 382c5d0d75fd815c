"""``auditor report`` through Click: paths on stdout (index.html last), errors as one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from report_builder import build, standard_data


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    build(tmp_path / "wh", standard_data())
    return tmp_path / "wh"


def test_writes_reports_and_prints_paths_index_last(invoke, wh: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = invoke("report", "-w", wh, "--out", out, "--eml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == str(out / "index.html")
    assert str(out / "acme.my.erp.net" / "2026-10.html") in lines  # the last full month in the data
    assert str(out / "acme.my.erp.net" / "2026-10.eml") in lines
    assert all(Path(line).is_file() for line in lines)
    assert result.stderr == ""  # progress only on a terminal


def test_period_and_instance_options(invoke, wh: Path, tmp_path: Path):
    result = invoke("report", "-w", wh, "-o", tmp_path / "o", "--from", "2026-10-05", "--to", "2026-10-06", "-i", "acme.my.erp.net")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(tmp_path / "o" / "acme.my.erp.net" / "2026-10-05_2026-10-05.html")
    assert "2026-10-05_2026-10-05.html" in (tmp_path / "o" / "index.html").read_text()


def test_quiet_prints_nothing(invoke, wh: Path, tmp_path: Path):
    result = invoke("report", "-w", wh, "-o", tmp_path / "o", "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / "o" / "index.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "is not a month; write it as YYYY-MM"),
        (["--period", "2026-10", "--from", "2026-10-01", "--to", "2026-10-02"], "either --period or --from/--to"),
        (["--from", "2026-10-01"], "--from and --to go together"),
        (["--from", "2026-10-02", "--to", "2026-10-01"], "must be after --from"),
        (["-i", "nope.example"], "no audited instance named 'nope.example'"),
        (["--from", "0001-01-01", "--to", "2026-10-01"], "--from 0001-01-01 is out of range; give a date from 1900-01-01"),
        (["--from", "2026-10-01", "--to", "9999-01-01"], "--to 9999-01-01 is out of range"),
        (["--period", "0001-01"], "--period 0001-01-01 is out of range"),
        (["--period", "0000-01"], "is not a month"),
        (["--from", "1900-01-01", "--to", "2999-12-31"], "spans 401,766 days; a report covers at most 3,660 days"),
    ],
)
def test_usage_errors_are_one_line_exit_2(invoke, wh: Path, tmp_path: Path, args, message):
    result = invoke("report", "-w", wh, "-o", tmp_path / "o", *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


def test_a_warehouse_without_an_audit_says_what_to_run(invoke, tmp_path: Path):
    from auditor.warehouse import Warehouse

    Warehouse.open(tmp_path / "empty", create=True)
    result = invoke("report", "-w", tmp_path / "empty", "-o", tmp_path / "o")
    assert result.exit_code == 1
    assert "run `auditor audit" in result.stderr and len(result.stderr.splitlines()) == 1


def test_help_names_every_option(invoke):
    result = invoke("report", "--help")
    for option in ("--warehouse", "--out", "--period", "--from", "--to", "--instance", "--eml", "--plans", "--jobs", "--quiet"):
        assert option in result.stdout


def test_the_readme_examples_run(invoke, wh: Path, tmp_path: Path, monkeypatch):
    import re
    import shlex

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `auditor report`", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    examples = [line for line in blocks[-1].splitlines() if line.startswith("auditor report")]
    assert len(examples) == 2
    monkeypatch.chdir(tmp_path)
    for line in examples:
        result = invoke(*shlex.split(line)[1:], env={"AUDITOR_WAREHOUSE": str(wh)})
        assert result.exit_code == 0, (line, result.stderr)
        assert result.stdout.splitlines()[-1] == str(Path("reports") / "index.html")


def test_instances_named_like_the_overview_or_a_report_file_get_their_own_folder(invoke, tmp_path: Path):
    # Through ingest, audit and report: an instance called index.html once took the
    # overview's place, and every later report run failed.
    logs = tmp_path / "logs.jsonl"
    names = ["index.html", "2026-10.html", "acme.my.erp.net"]
    logs.write_text("".join(
        f'{{"ts":"2026-10-05T08:0{i}:00Z","instance":"{name}","event":"login","session_id":"s{i}"}}\n'
        f'{{"ts":"2026-10-05T08:3{i}:00Z","instance":"{name}","event":"logout","session_id":"s{i}"}}\n'
        for i, name in enumerate(names)
    ))
    wh, out = tmp_path / "wh", tmp_path / "out"
    assert invoke("ingest", "-q", "-w", wh, logs).exit_code == 0
    assert invoke("audit", "-q", "-w", wh).exit_code == 0
    for _ in range(2):  # and again over the same folder
        result = invoke("report", "-w", wh, "-o", out)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines()[-1] == str(out / "index.html")
        assert (out / "index.html").is_file() and "portfolio overview" in (out / "index.html").read_text()
        assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no stray .tmp file
        folders = sorted(p.name for p in out.iterdir() if p.is_dir())
        assert len(folders) == 3 and "acme.my.erp.net" in folders
        assert all(f == "acme.my.erp.net" or f.endswith("_") for f in folders)
        assert str(out / "index.html" / "2026-10.html") not in result.stdout
        overview = (out / "index.html").read_text()
        assert all(f'href="{f}/2026-10.html"' in overview for f in folders)


def test_a_folder_where_the_overview_goes_is_one_line_and_exit_2(invoke, wh: Path, tmp_path: Path):
    out = tmp_path / "out"
    (out / "index.html").mkdir(parents=True)  # what an earlier version left for an instance called index.html
    result = invoke("report", "-w", wh, "-o", out)
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert f"{out / 'index.html'} is a folder, where the overview must be written" in result.stderr
    assert [p.name for p in out.iterdir()] == ["index.html"]


def test_tables_of_another_audit_engine_ask_for_a_new_audit(invoke, tmp_path: Path):
    # The verdict reads per-day columns an older audit did not write: say what to run.
    import dataclasses

    from auditor.audit import ENGINE_VERSION
    from auditor.warehouse import Warehouse

    logs = tmp_path / "logs.jsonl"
    logs.write_text('{"ts":"2026-10-05T08:00:00Z","instance":"acme.my.erp.net","event":"login","session_id":"s"}\n')
    wh = tmp_path / "wh"
    assert invoke("ingest", "-q", "-w", wh, logs).exit_code == 0
    assert invoke("audit", "-q", "-w", wh).exit_code == 0
    with Warehouse.open(wh).transaction() as tx:
        tx.state.audit = dataclasses.replace(tx.state.audit, engine=ENGINE_VERSION - 1)
    result = invoke("report", "-w", wh, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "written by another version of auditor; run `auditor audit --warehouse" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def _files(out: Path) -> dict[str, bytes]:
    """Every file under OUT; an .eml without its Date header and with its MIME boundaries named alike."""
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".eml":
            data = re.sub(rb"={15}\d+==", b"BOUNDARY", re.sub(rb"\nDate: [^\n]*\n", b"\n", data, count=1))
        files[path.relative_to(out).as_posix()] = data
    return files


def test_jobs_give_the_same_files_as_one_process(invoke, wh: Path, tmp_path: Path):
    outputs = {}
    for jobs in ("1", "2"):
        result = invoke("report", "-w", wh, "-o", tmp_path / jobs, "--eml", "--jobs", jobs)
        assert result.exit_code == 0, result.stderr
        outputs[jobs] = _files(tmp_path / jobs)
    assert len(outputs["1"]) >= 5 * 4 and any(name.endswith(".png") for name in outputs["1"])
    assert outputs["2"] == outputs["1"]


@pytest.mark.parametrize("jobs", ["0", "-1", "65", "two", ""])
def test_bad_jobs_are_a_one_line_usage_error(invoke, wh: Path, tmp_path: Path, jobs: str):
    result = invoke("report", "-w", wh, "-o", tmp_path / "o", "--jobs", jobs)
    assert result.exit_code == 2, result.stderr
    assert "--jobs" in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stdout == "" and not (tmp_path / "o").exists()


def test_render_reports_refuses_a_number_of_workers_out_of_range(wh: Path, tmp_path: Path):
    from auditor.errors import UsageError
    from auditor.report import render_reports
    from auditor.warehouse import Warehouse

    for workers in (0, 65):
        with pytest.raises(UsageError, match="--jobs"):
            render_reports(Warehouse.open(wh), tmp_path / "o", workers=workers)
