"""Instance names as file names: safe, stable, never colliding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.report.filenames import safe_name


def test_plain_host_names_are_kept():
    assert safe_name("acme.my.erp.net") == "acme.my.erp.net"


def test_traversal_and_odd_names_are_cleaned_and_tagged():
    for name in ("../../etc/passwd", "..", ".", "", "a/b", "a\\b", "ACME.my.erp.net", "x" * 300, "é.example"):
        stem = safe_name(name)
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".") and stem not in ("", ".", "..")
        assert stem.endswith("_") and len(stem) <= 100


@given(st.text(max_size=40), st.text(max_size=40))
def test_distinct_names_never_collide(a, b):
    if a != b:
        assert safe_name(a) != safe_name(b)


@given(st.text(max_size=200))
def test_always_a_single_safe_path_component(name):
    stem = safe_name(name)
    assert stem == safe_name(name)
    assert set(stem) <= set("abcdefghijklmnopqrstuvwxyz0123456789._-")
    assert not stem.startswith(".") and 0 < len(stem) <= 100
