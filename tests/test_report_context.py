"""The report's figures: period clipping, statuses, recommendations, the overview's order."""

from __future__ import annotations

import dataclasses
import inspect
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jinja2
import jinja2.meta
import pytest

from auditor.plans import load_plans
from auditor.report import context
from auditor.report.build import build_figures, build_overview, register_scope, rows, scope_for
from auditor.report.context import TEMPLATE_CONTEXT
from auditor.report.period import Period, last_full_month, month_period
from auditor.report.render import environment
from auditor.resources import templates_dir
from report_builder import Data, Ent, Sess, build, standard_data, utc

OCTOBER = month_period("2026-10")


def figures_for(wh, period: Period = OCTOBER, tolerance: timedelta = timedelta(0), catalogue=None):
    con = wh.connect()
    known = {r["instance"]: r for r in rows(con, "report/instances")}
    scopes = [scope_for(name, info["timezone"], period) for name, info in known.items()]
    register_scope(con, scopes)
    return build_figures(con, scopes, known, {n: n for n in known}, catalogue or load_plans(None), tolerance)


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    return build(tmp_path_factory.mktemp("wh") / "wh", standard_data())


def test_breaching_instance_figures_are_clipped_to_the_month_in_its_time_zone(standard):
    acme = figures_for(standard)["acme.my.erp.net"]
    # 30 Sep's breach (06:00-07:00 UTC = 09:00-10:00 in Sofia) lies before October there.
    assert acme.breach_count == 2
    assert acme.seconds_over_limit == 2.5 * 3600 + 3600
    assert acme.peak_seats == 5
    assert acme.peak_at == utc("2026-10-05 08:40")
    assert acme.denials == 1
    assert acme.status == "breach"
    assert [s.seat_limit for s in acme.limits] == [3, 4]
    assert acme.seat_limit == 4
    assert acme.limit_summary == "3, then 4 from 15 Oct"
    assert acme.period_start == datetime(2026, 9, 30, 21, tzinfo=timezone.utc)
    assert acme.period_end == datetime(2026, 10, 31, 22, tzinfo=timezone.utc)


def test_september_holds_only_the_earlier_breach(standard):
    acme = figures_for(standard, month_period("2026-09"))["acme.my.erp.net"]
    assert (acme.breach_count, acme.peak_seats, acme.seconds_over_limit) == (1, 4, 3600.0)
    assert acme.seat_limit == 3


def test_statuses_and_recommendations(standard):
    f = figures_for(standard)
    assert {name: x.status for name, x in f.items()} == {
        "acme.my.erp.net": "breach",
        "calm.my.erp.net": "compliant",
        "full.my.erp.net": "at_limit",
        "huge.my.erp.net": "beyond_plan_maximum",
        "lost.my.erp.net": "unlicensed",
    }
    acme = f["acme.my.erp.net"].recommendation
    assert (acme.kind, acme.needed_limit, acme.extra_sessions, acme.current_limit) == ("add_sessions", 5, 1, 4)
    assert acme.monthly_cost is None  # the built-in catalogue has no prices
    assert f["huge.my.erp.net"].recommendation.kind == "larger_plan"
    assert f["huge.my.erp.net"].recommendation.extra_sessions == 0
    assert f["lost.my.erp.net"].recommendation.kind == "unlicensed"
    assert f["lost.my.erp.net"].seat_limit is None
    calm = f["calm.my.erp.net"]
    assert (calm.recommendation.kind, calm.headroom, calm.peak_seats) == ("none_needed", 4, 1)
    assert f["full.my.erp.net"].denials == 2


def test_prices_from_the_catalogue_give_the_monthly_cost(standard, tmp_path: Path):
    plans = tmp_path / "plans.toml"
    plans.write_text(
        "[plans.small-business-basic]\nbase_sessions = 3\nmax_sessions = 35\nextra_session_monthly_price = 12.5\n"
        "[plans.small-business-advanced]\nbase_sessions = 5\nmax_sessions = 35\n"
    )
    f = figures_for(standard, catalogue=load_plans(plans))
    assert f["acme.my.erp.net"].recommendation.monthly_cost == 12.5
    assert f["acme.my.erp.net"].recommendation.unit_price == 12.5
    overview = build_overview(f.values())
    assert overview.monthly_revenue == 12.5
    assert overview.extra_sessions_total == 1


def test_overview_puts_the_most_urgent_first(standard):
    overview = build_overview(figures_for(standard).values())
    assert [r.instance for r in overview.rows] == [
        "acme.my.erp.net", "huge.my.erp.net", "lost.my.erp.net", "full.my.erp.net", "calm.my.erp.net",
    ]
    assert (overview.instances_audited, overview.instances_in_breach) == (5, 2)


def test_tolerance_lowers_the_needed_limit(standard):
    # acme was at 5 seats for 2h20m on 5 Oct and 1h on 20 Oct (3h20m), at 4 or more for 3h30m.
    f = figures_for(standard, tolerance=timedelta(hours=3, minutes=20))["acme.my.erp.net"]
    assert f.recommendation.needed_limit == 4
    assert f.recommendation.kind == "none_needed"


def test_a_step_crossing_the_period_start_counts_only_inside(tmp_path: Path):
    d = Data(entitlements=[Ent("a.example", extra=-2)])  # limit 1
    d.sessions += [
        Sess("a.example", "1", utc("2026-09-30 23:00"), utc("2026-10-01 01:00")),
        Sess("a.example", "2", utc("2026-09-30 23:30"), utc("2026-10-01 00:30")),
    ]
    f = figures_for(build(tmp_path / "wh", d))["a.example"]
    assert f.seconds_over_limit == 1800.0
    assert f.breach_count == 1
    assert f.peak_at == utc("2026-10-01 00:00")  # reached before the period: its first instant inside


def test_last_full_month():
    assert last_full_month(date(2026, 10, 1), date(2026, 10, 31)) == month_period("2026-10")
    assert last_full_month(date(2026, 9, 12), date(2026, 11, 3)) == month_period("2026-10")
    assert last_full_month(date(2026, 10, 2), date(2026, 11, 1)) == month_period("2026-11")  # none is full
    assert last_full_month(date(2025, 11, 30), date(2026, 1, 5)) == month_period("2025-12")


def test_period_bounds_follow_daylight_saving():
    start, end = Period(date(2026, 10, 25), date(2026, 10, 26)).bounds("Europe/Sofia")
    assert (end - start) == timedelta(hours=25)


def test_every_template_uses_only_its_documented_keys():
    env = environment()
    for name, keys in TEMPLATE_CONTEXT.items():
        source = (templates_dir() / name).read_text(encoding="utf-8")
        used = jinja2.meta.find_undeclared_variables(env.parse(source))
        assert used == set(keys), name
    partials = jinja2.meta.find_undeclared_variables(env.parse((templates_dir() / "_partials.html").read_text()))
    assert partials == set(), "macros must use only their arguments"


def test_a_template_naming_an_unknown_key_fails_loudly():
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ report.nothing }}").render(report=object())


def _documented(readme: str) -> dict[str, set[str]]:
    """The names each ``### Class`` section of templates/README.md lists (bullets: - `a`, `b`: meaning)."""
    out: dict[str, set[str]] = {}
    section = None
    for line in readme.splitlines():
        if line.startswith("### "):
            section = line[4:].strip()
            out[section] = set()
        elif section and (m := re.match(r"- ((?:`\w+`(?:, )?)+):", line)):
            out[section] |= set(re.findall(r"`(\w+)`", m.group(1)))
    return out


def test_the_template_readme_lists_every_key_field_and_property():
    readme = (templates_dir() / "README.md").read_text(encoding="utf-8")
    for page, keys in TEMPLATE_CONTEXT.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{page}` |"))
        assert all(f"`{key}`:" in row for key in keys), page
    classes = {name: cls for name, cls in vars(context).items()
               if inspect.isclass(cls) and dataclasses.is_dataclass(cls) and cls.__module__ == context.__name__}
    documented = _documented(readme)
    assert set(documented) == set(classes)
    for name, cls in classes.items():
        names = {f.name for f in dataclasses.fields(cls)} | {n for n, v in vars(cls).items() if isinstance(v, property)}
        assert documented[name] == names, name
