"""render_reports: one report per instance and period, the charts, .eml files, and OUT/index.html."""

from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from auditor.audit import ENGINE_VERSION
from auditor.errors import AuditorError, UsageError
from auditor.limits import MAX_REPORT_DAYS, MAX_REPORT_JOBS, check_date
from auditor.names import name_notes
from auditor.plans import PlanCatalogue, load_plans, parse_plans
from auditor.policy import DEFAULT_POLICY
from auditor.report.charts import render_charts
from auditor.report.build import build_figures, build_reports, policy_facts, register_scope, rows, scope_for
from auditor.report.context import BreachRow, ChartImage, ReportContext
from auditor.report.email import build_message, content_ids
from auditor.report.filenames import OVERVIEW_FILE, safe_name
from auditor.report.overview import render_overview
from auditor.files import write_atomically
from auditor.machine import workers
from auditor.state import PipelineState
from auditor.report.period import Period, last_full_month, local_day, month_period, range_period
from auditor.report.render import render, render_page
from auditor.warehouse import Warehouse

Progress = Callable[[str], None]
#: Instances whose report contexts are built at once.
CHUNK = 200
#: From this many reports on, render in several processes by default.
PARALLEL_FROM = 16


@dataclass
class ReportResult:
    """What render_reports wrote, by kind; ``paths()`` lists them with index.html last."""

    reports: list[Path] = field(default_factory=list)
    charts: list[Path] = field(default_factory=list)
    evidence: list[Path] = field(default_factory=list)
    emls: list[Path] = field(default_factory=list)
    index: Path | None = None
    instances: list[str] = field(default_factory=list)

    def add(self, part: ReportResult) -> None:
        self.reports += part.reports
        self.charts += part.charts
        self.evidence += part.evidence
        self.emls += part.emls

    def paths(self) -> list[Path]:
        tail = [self.index] if self.index else []
        return [*self.reports, *self.charts, *self.evidence, *self.emls, *tail]


class NoAuditError(AuditorError):
    """The warehouse has no audit results to report on."""


class OutputFolderError(UsageError):
    """The output folder holds something where the report must write a file."""


def resolve_period(
    period: str | None, date_from: date | None, date_to: date | None
) -> Period | None:
    """The period the options name, or None for the default (the last full month, per instance)."""
    if period and (date_from or date_to):
        raise UsageError("give either --period or --from/--to, not both")
    if period:
        month = month_period(period)
        check_date(month.first_day, "--period")
        check_date(month.last_day, "--period")
        return month
    if date_from or date_to:
        if not (date_from and date_to):
            raise UsageError("--from and --to go together (the period is [from, to), local days)")
        chosen = range_period(check_date(date_from, "--from"), check_date(date_to, "--to"))
        if chosen.days > MAX_REPORT_DAYS:
            raise UsageError(
                f"--from {date_from} --to {date_to} spans {chosen.days:,} days; a report covers at most "
                f"{MAX_REPORT_DAYS:,} days: choose a shorter period"
            )
        return chosen
    return None


def render_reports(
    warehouse: Warehouse,
    out_dir: Path,
    *,
    period: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    instances: Sequence[str] | None = None,
    eml: bool = False,
    plans: Path | None = None,
    tolerance: timedelta | None = None,
    sender: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ReportResult:
    """Write a report for each instance (or INSTANCES) and the overview of all instances.

    The period is a month (``YYYY-MM``), local days [date_from, date_to), or by
    default the last full calendar month in the data, in each instance's time
    zone. ``plans`` gives prices (else the catalogue the audit stored, else the
    built-in one); ``tolerance`` the time over the limit the recommendation
    allows (else the audit's). ``workers``: processes that render (``--jobs``;
    default: the machine's cores when there are many reports, else 1); the
    files are the same whatever their number.
    """
    say = progress or (lambda _msg: None)
    if workers is not None and not 1 <= workers <= MAX_REPORT_JOBS:
        raise UsageError(f"--jobs {workers}: give a number of processes from 1 to {MAX_REPORT_JOBS}")
    explicit = resolve_period(period, date_from, date_to)
    out_dir = Path(out_dir)
    index = out_dir / OVERVIEW_FILE
    if index.is_dir():
        # Checked before any work: with a folder in its place the overview cannot be written.
        raise OutputFolderError(
            f"{index} is a folder, where the overview must be written; move it out of {out_dir} and run again"
        )
    con = warehouse.connect()
    try:
        selected = _select(_known(con, warehouse), instances)
    finally:
        con.close()
    with _render_pool(_workers(workers, len(selected))) as pool:
        return _render(warehouse, out_dir, pool, explicit, instances, eml, plans, tolerance, sender, say)


def _render(
    warehouse: Warehouse, out_dir: Path, pool: ProcessPoolExecutor | None, explicit: Period | None,
    instances: Sequence[str] | None, eml: bool, plans: Path | None, tolerance: timedelta | None,
    sender: str | None, say: Progress,
) -> ReportResult:
    """render_reports' work, on POOL's processes when there is one (else in this process)."""
    index = out_dir / OVERVIEW_FILE
    con = warehouse.connect()
    try:
        known = _known(con, warehouse)  # again: the commit this connection reads
        selected = _select(known, instances)
        state = warehouse.state()
        if state.audit is not None and state.audit.engine != ENGINE_VERSION:
            # The per-day tables the verdict reads have another layout.
            raise NoAuditError(
                f"the audit's tables in {warehouse.root} were written by another version of auditor; "
                f"run `auditor audit --warehouse {warehouse.root}` again"
            )
        catalogue = load_plans(plans) if plans is not None else _stored_catalogue(state)
        if tolerance is None:
            tolerance = state.audit.settings.tolerance if state.audit is not None else timedelta(0)
        data_range = rows(con, "report/data_range")[0]
        first_ts, last_ts = data_range["first_ts"], data_range["last_ts"]
        scopes = [
            scope_for(name, info["timezone"] or "UTC", explicit or _default_period(first_ts, last_ts, info["timezone"]))
            for name, info in known.items()
        ]
        register_scope(con, scopes)
        stems = {name: safe_name(name) for name in known}
        # the policy the audit judged with, not today's defaults
        policy = state.audit.policy if state.audit is not None else DEFAULT_POLICY
        figures = build_figures(con, scopes, known, stems, catalogue, tolerance, name_notes(known))
        facts = policy_facts(policy)
        out_dir.mkdir(parents=True, exist_ok=True)
        result = ReportResult(instances=list(selected))
        chunks = [selected[start : start + CHUNK] for start in range(0, len(selected), CHUNK)]
        done = 0
        if pool is None:
            for chunk in chunks:
                contexts = build_reports(con, figures, chunk, (first_ts, last_ts), facts)
                for name in chunk:
                    done += 1
                    say(f"report {done}/{len(selected)}: {name}")
                    result.add(write_report(contexts[name], out_dir, eml=eml, sender=sender))
        else:
            # A chunk's contexts at a time (a month of usage steps for thousands of instances
            # would not fit in memory at once); the next chunk is queried while the workers
            # render this one, so at most two chunks are held.
            pending: list[tuple[str, Future[ReportResult]]] = []
            for chunk in [*chunks, []]:
                contexts = build_reports(con, figures, chunk, (first_ts, last_ts), facts) if chunk else {}
                for name, job in pending:
                    result.add(job.result())
                    done += 1
                    say(f"report {done}/{len(selected)}: {name} written")
                pending = [(name, pool.submit(write_report, contexts[name], out_dir, eml=eml, sender=sender))
                           for name in chunk]
                del contexts
    finally:
        con.close()
    say("overview")
    write_atomically(index, render_overview(figures.values()))
    result.index = index
    return result


def _workers(asked: int | None, reports: int) -> int:
    """Processes that render: drawing charts and writing pages is single-threaded Python.

    ASKED (``--jobs``) is used as given, but never more processes than reports;
    by default the machine's cores ($AUDITOR_WORKERS lowers it), and one for a
    few reports, where starting processes would cost more than it saves.
    """
    if asked is not None:
        return max(1, min(asked, reports))
    if reports < PARALLEL_FROM:
        return 1
    return min(workers(cap=MAX_REPORT_JOBS), reports)


@contextlib.contextmanager
def _render_pool(processes: int) -> Iterator[ProcessPoolExecutor | None]:
    """PROCESSES workers that render (None for one: this process renders).

    Workers are forked, and all at once, here, while this process holds no DuckDB
    connection (and so none of its threads): they inherit the loaded modules (no
    second import of the caller's __main__, which spawn and forkserver would run
    again) and only render - charts, Jinja2, css-inline, files - from the
    contexts they are sent. Where fork is not available, rendering stays here.
    """
    if processes == 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        pool.submit(int).result()  # the first task starts every worker
        yield pool


def _known(con: duckdb.DuckDBPyConnection, warehouse: Warehouse) -> dict[str, Any]:
    """The audited instances (rows of report/instances) by name; an error when there are none."""
    known = {r["instance"]: r for r in rows(con, "report/instances")}
    if not known:
        raise NoAuditError(
            f"the warehouse {warehouse.root} has no audit results; run `auditor audit --warehouse {warehouse.root}` first"
        )
    return known


def _select(known: dict[str, Any], instances: Sequence[str] | None) -> list[str]:
    if instances is None:
        return sorted(known)
    wanted = list(dict.fromkeys(name.strip().lower() for name in instances))
    missing = [name for name in wanted if name not in known]
    if missing:
        raise UsageError(
            f"no audited instance named {', '.join(repr(m) for m in missing)}; "
            "list them with `auditor sql \"SELECT instance FROM instance_summary\"`"
        )
    return sorted(wanted)


def _default_period(first_ts: datetime | None, last_ts: datetime | None, tz: str | None) -> Period:
    if first_ts is None or last_ts is None:
        raise NoAuditError("the warehouse has no events to report on; run `auditor ingest` and `auditor audit` first")
    return last_full_month(local_day(first_ts, tz or "UTC"), local_day(last_ts, tz or "UTC"))


def _stored_catalogue(state: PipelineState) -> PlanCatalogue:
    """The catalogue the last audit used, when it stored its text; else the built-in one."""
    if state.audit_inputs.plans_toml is not None:
        return parse_plans(state.audit_inputs.plans_toml.encode("utf-8"), "the plan catalogue stored by the last audit")
    return load_plans(None)


def write_report(report: ReportContext, out_dir: Path, *, eml: bool, sender: str | None) -> ReportResult:
    """One instance's files (runs in a worker process when rendering in parallel)."""
    result = ReportResult()
    f = report.figures
    folder = out_dir / f.file_stem
    folder.mkdir(parents=True, exist_ok=True)
    stem = f.period.key
    charts = render_charts(report, folder, stem)
    result.charts.extend(c.path for c in charts.values())
    on_disk = {name: ChartImage(c.path.name, c.alt, c.width, c.height) for name, c in charts.items()}
    html_path = folder / f"{stem}.html"
    write_atomically(html_path, render_page("report.html", report=report, charts=on_disk))
    result.reports.append(html_path)
    if report.breaches:
        csv_path = folder / f"{stem}-breaches.csv"
        write_atomically(csv_path, evidence_csv(report.breaches))
        result.evidence.append(csv_path)
    if eml:
        cids = content_ids(report, charts)
        by_cid = {name: ChartImage(f"cid:{cids[name]}", c.alt, c.width, c.height) for name, c in charts.items()}
        html = render_page("report.html", report=report, charts=by_cid)
        text = render("report.txt", report=report)
        message = build_message(report, html, text, charts, cids, **({"sender": sender} if sender else {}))
        eml_path = folder / f"{stem}.eml"
        write_atomically(eml_path, bytes(message))
        result.emls.append(eml_path)
    return result


#: Where a piece of text starts that a spreadsheet may read as a cell of its own: the start
#: of the value, or after a list separator of some locale (`,` in English, `;` in Bulgarian,
#: German or French, tab, `|`) or a line break - Excel splits on its locale's separator
#: without regard to our quotes. A piece is a formula when it starts, after spaces or a
#: quote, with one of = + - @ or a tab or carriage return.
_FORMULA_PIECE = re.compile(r"(^|[,;\t|\r\n])(?=[ \"]*[=+\-@\t\r])")


def guard_text(text: str) -> str:
    """TEXT with an apostrophe before every piece that a spreadsheet would run as a formula."""
    return _FORMULA_PIECE.sub(lambda m: m.group(1) + "'", text)


def _cell(value: Any) -> str | int | float:
    """A CSV cell: numbers as they are (written unquoted), anything else as guarded text (quoted)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return guard_text(str(value))


def evidence_csv(breaches: Sequence[BreachRow]) -> str:
    """Every breach's sessions at its peak, one row per session (local times, ISO 8601).

    Every text cell is quoted and guarded (``guard_text``); numbers are not quoted.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(
        ["breach_start", "breach_end", "peak_at", "peak_seats", "seat_limit", "session_id",
         "user", "user_type", "device", "app", "seats", "session_start", "session_end"]
    )
    for b in breaches:
        for s in b.sessions:
            writer.writerow(
                [_cell(v) for v in (b.start, b.end, b.peak_at, b.peak_seats, b.seat_limit, s.session_id,
                                    s.user, s.user_type, s.device, s.app, s.seats, s.start, s.end)]
            )
    return out.getvalue()
