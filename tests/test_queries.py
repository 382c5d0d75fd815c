"""queries/ and the code that loads it agree: every file is used, every name used has a file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from auditor.queries import QueryError, load_query, query_names

PACKAGE = Path(__file__).resolve().parent.parent / "auditor"
#: A query's name as the code writes it: its folder and file name.
NAME = re.compile(r"^(audit|ingest|report|generate|warehouse)/[a-z0-9_]+$")


def _names_in_the_code() -> set[str]:
    """Every string literal in the package that is shaped like a query name."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.match(node.value):
                found.add(node.value)
    return found


def test_every_query_file_is_loaded_by_its_name() -> None:
    unused = sorted(set(query_names()) - _names_in_the_code())
    assert not unused, f"queries nothing loads: {unused}"


def test_every_query_name_in_the_code_has_a_file() -> None:
    missing = sorted(_names_in_the_code() - set(query_names()))
    assert not missing, f"names without a queries/*.sql file: {missing}"


def test_every_query_says_what_it_computes_reads_and_takes() -> None:
    for name in query_names():
        header = [line for line in load_query(name).splitlines() if line.startswith("--")]
        assert header and header[0].startswith(f"-- {name.split('/')[-1]}:"), f"{name}: first line names the file"
        assert "Parameters:" in " ".join(header), f"{name}: the header names its parameters (or none)"


def test_a_missing_query_is_an_error_naming_it() -> None:
    with pytest.raises(QueryError, match="audit/nothing_here.sql"):
        load_query("audit/nothing_here")
