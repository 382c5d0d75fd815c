"""Instance names that could mislead a reader: mixed scripts, invisible characters, look-alikes."""

from __future__ import annotations

from auditor.names import name_notes, printable, script, skeleton

LATIN = "acme.my.erp.net"
CYRILLIC_A = "\u0430cme.my.erp.net"  # Cyrillic а in place of the Latin a


def test_a_cyrillic_letter_in_a_latin_name_is_marked_and_named():
    notes = name_notes([CYRILLIC_A])
    assert notes == {CYRILLIC_A: "mixes Latin and Cyrillic letters (Cyrillic \u0430 U+0430)"}


def test_look_alikes_mark_each_other_saying_how_they_differ():
    notes = name_notes([LATIN, CYRILLIC_A, "globex.my.erp.net"])
    assert set(notes) == {LATIN, CYRILLIC_A}
    assert notes[LATIN] == f"looks the same as instance {CYRILLIC_A} (Cyrillic \u0430 U+0430)"
    assert notes[CYRILLIC_A].endswith(f"; looks the same as instance {LATIN}")


def test_the_twin_may_be_among_the_other_instances_only():
    # The ingest summary checks the names a run touched against every instance held.
    notes = name_notes([CYRILLIC_A], among=[LATIN, "globex.my.erp.net"])
    assert set(notes) == {CYRILLIC_A} and f"looks the same as instance {LATIN}" in notes[CYRILLIC_A]


def test_no_false_alarm_on_ascii_punycode_or_single_script_names():
    names = [
        LATIN, "globex.my.erp.net", "hooli-2.my.erp.net", "index.html", "a_b.example",
        "xn--80ak6aa92e.com", "xn--e1afmkfd.xn--p1ai",  # IDN names in punycode
        "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",  # пример.рф
        "\u043f\u0440\u0438\u043c\u0435\u0440.my.erp.net",  # a Cyrillic label under a Latin domain
        "\u0441\u043e\u0444\u0438\u044f.my.erp.net",  # софия: Cyrillic look-alike letters, but no Latin twin
        "\u03b1\u03b8\u03b7\u03bd\u03b1.gr",  # αθηνα.gr
        "\u6771\u4eac\u3068\u304d.jp", "\u6771\u4eacacme.jp",  # Han with kana; Latin with Han (UTS #39 allows both)
    ]
    assert name_notes(names) == {}


def test_all_cyrillic_name_with_a_latin_twin_is_marked():
    cyrillic = "\u0441\u043e\u0441.my.erp.net"  # сос
    notes = name_notes([cyrillic, "coc.my.erp.net"])
    assert notes[cyrillic] == (
        "looks the same as instance coc.my.erp.net; this name has Cyrillic \u0441 U+0441, Cyrillic \u043e U+043E"
    )
    assert notes["coc.my.erp.net"].startswith(f"looks the same as instance {cyrillic} (Cyrillic")


def test_greek_and_compatibility_forms_and_invisible_characters():
    assert skeleton("\u03bfmicron.net") == "omicron.net"  # Greek ο
    assert skeleton("\uff41cme.net") == "acme.net"  # fullwidth ａ
    assert skeleton("ac\u200bme.net") == "acme.net"
    notes = name_notes(["ac\u200bme.net", "acme.net"])
    assert notes["ac\u200bme.net"] == "has invisible characters (U+200B); looks the same as instance acme.net"
    assert name_notes(["\u03bfmicron.net"]) == {"\u03bfmicron.net": "mixes Latin and Greek letters (Greek \u03bf U+03BF)"}


def test_scripts_and_printable_names():
    assert [script(c) for c in "a\u0430\u03b1\u6771\u30421."] == ["Latin", "Cyrillic", "Greek", "Han", "Hiragana", None, None]
    assert printable("ac\u200bme\x1b[2J") == "ac\\u200bme\\u001b[2J"
