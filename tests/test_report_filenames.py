"""Instance names as file names: safe, stable, never colliding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.report.filenames import FILE_ENDINGS, TOP_LEVEL_FILES, safe_name


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


def test_names_of_the_files_the_report_writes_are_never_kept():
    # OUT/index.html is the overview; a folder named like a file would be taken for one.
    for name in ("index.html", "report.htm", "2026-10.html", "x.png", "evidence.csv", "acme.eml", "notes.txt", "a.tmp"):
        stem = safe_name(name)
        assert stem != name and stem.endswith("_") and stem not in TOP_LEVEL_FILES, name
        assert not stem.endswith(FILE_ENDINGS)
    assert safe_name("index.html") != safe_name("index.html.")
    assert safe_name("html.my.erp.net") == "html.my.erp.net"  # the ending, not the word


@given(st.text(max_size=60))
def test_no_folder_is_named_like_a_top_level_file(name):
    stem = safe_name(name)
    assert stem not in TOP_LEVEL_FILES and not stem.endswith(FILE_ENDINGS)
