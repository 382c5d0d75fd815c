"""The plan catalogue: the built-in one, and errors that name file, line and fix."""

from __future__ import annotations

import pytest

from auditor.plans import PlansFileError, load_plans, parse_plans


def test_builtin_catalogue():
    plans = load_plans()
    assert plans.get("small-business-basic").base_sessions == 3
    assert plans.get("small-business-advanced").base_sessions == 5
    assert {p.max_sessions for p in plans.plans.values()} == {35}


def test_custom_catalogue_with_price(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[plans.small-business-pro]\nbase_sessions = 3\nmax_sessions = 35\nextra_session_monthly_price = 12.5\n')
    plan = load_plans(path).get("small-business-pro")
    assert (plan.base_sessions, plan.max_sessions, plan.extra_session_monthly_price) == (3, 35, 12.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[plans.a]\nbase_sessions = 3\nmax_sessions = \n", "x.toml: not valid TOML"),
        ("[plans.a]\nbase_sessions = 3\n", "x.toml:1: plan 'a' needs max_sessions"),
        ("\n[plans.a]\nbase_sessions = -1\nmax_sessions = 3\n", "x.toml:2: plan 'a' needs base_sessions"),
        ("[plans.a]\nbase_sessions = 3\nmax_sessions = 4\nseats = 1\n", "x.toml:1: plan 'a' has unknown key 'seats'"),
        ("[plans.a]\nbase_sessions = 3\nmax_sessions = 4\nextra_session_monthly_price = 'x'\n", "must be a number"),
        ("title = 'x'\n", "x.toml:1: unknown setting 'title'"),
        ("", "no plans"),
        ("[plans.a]\nbase_sessions = 3\nmax_sessions = 100000000000\n",
         "x.toml:1: plan 'a': max_sessions 100000000000 is above 100,000"),
        ("\n[plans.a]\nbase_sessions = 100001\nmax_sessions = 100001\n", "x.toml:2: plan 'a': base_sessions 100001 is above 100,000"),
        ("[plans.a]\nbase_sessions = 3\nmax_sessions = 4\nextra_session_monthly_price = nan\n", "must be a number from 0 to"),
        ("[plans.a]\nbase_sessions = 3\nmax_sessions = 4\nextra_session_monthly_price = inf\n", "must be a number from 0 to"),
    ],
)
def test_errors_name_file_and_line(text, message):
    with pytest.raises(PlansFileError, match=message.replace("(", r"\(")):
        parse_plans(text.encode(), "x.toml")


def test_unreadable_file(tmp_path):
    with pytest.raises(PlansFileError, match="cannot read the plans file"):
        load_plans(tmp_path / "missing.toml")


def test_the_bound_itself_is_accepted():
    plan = parse_plans(b"[plans.a]\nbase_sessions = 100000\nmax_sessions = 100000\n", "x.toml").get("a")
    assert (plan.base_sessions, plan.max_sessions) == (100_000, 100_000)
