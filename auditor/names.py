"""Instance names that could mislead a reader.

Instance names come from the logs. ``аcme.my.erp.net`` with a Cyrillic ``а`` is
another instance than ``acme.my.erp.net``, yet the two print the same in a
report, an overview row or an e-mail subject. ``name_notes`` gives a short
plain-language note for each name that

- mixes scripts in one label (the parts between dots, as browsers judge host
  names: ``пример.my.erp.net`` is fine, ``аcme.my.erp.net`` is not): letters of
  more than one script, beyond the combinations that Unicode's "highly
  restrictive" profile (UTS #39) allows, which are Latin with Han and Japanese
  kana, with Han and Bopomofo, or with Han and Hangul;
- holds invisible characters (format characters such as U+200B, variation
  selectors, fillers);
- looks the same as another name: both have the same *skeleton*, the name with
  compatibility forms folded (NFKC: fullwidth ``ａ`` is ``a``), invisible
  characters dropped, case folded and each letter of ``LOOKALIKES`` replaced by
  the Latin letter it looks like.

Plain ASCII names, IDN names in punycode (``xn--…``) and names written in one
other script are never marked unless another name looks the same. A letter's
script is read from its Unicode name (``CYRILLIC SMALL LETTER A``): Python's
unicodedata has no script property, and the few look-alike letters that matter
in host names are a short table here rather than a dependency.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.warehouse import Warehouse

#: Letters of other scripts, and a few Latin ones beyond ASCII, that look like a plain
#: Latin letter in common fonts (from Unicode's confusables for Latin: the usual cases in
#: host names, both cases since a skeleton is built before and after folding case).
LOOKALIKES: Mapping[str, str] = {
    # Cyrillic
    "а": "a", "е": "e", "һ": "h", "і": "i", "ј": "j", "ӏ": "l", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
    "с": "c", "ԁ": "d", "у": "y", "ү": "y", "х": "x", "ԝ": "w", "ѵ": "v",
    "А": "A", "В": "B", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "Ӏ": "l", "М": "M", "О": "O",
    "Р": "P", "Ԛ": "Q", "Ѕ": "S", "С": "C", "Т": "T", "Ԁ": "D", "У": "Y", "Ү": "Y", "Х": "X", "Ԝ": "W",
    "Һ": "H", "Ѵ": "V",
    # Greek
    "α": "a", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "χ": "x", "γ": "y", "ϲ": "c",
    "ϳ": "j", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Armenian
    "օ": "o", "ս": "u", "ո": "n", "հ": "h", "ց": "g", "զ": "q",
    # Latin beyond ASCII
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʏ": "y",
}
#: Script combinations UTS #39's highly restrictive profile allows in one name.
_ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
#: First words of Unicode names that are not the script's own name.
_SCRIPT_WORDS = {"CJK": "Han"}
#: Characters most fonts draw as nothing (besides the format characters, category Cf).
_INVISIBLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
                     (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF))
#: What separates the labels of a host name (IDNA's dots).
_DOTS = re.compile("[.\uFF0E\u3002\uFF61]")
#: How many characters a note names before it says "…".
_SHOWN = 3


def name_notes(names: Iterable[str], among: Iterable[str] = ()) -> dict[str, str]:
    """A short note for each of NAMES that could mislead a reader; names without one are left out.

    A name is compared with every other name of NAMES and AMONG (e.g. all the
    instances a warehouse holds) for a look-alike.
    """
    names = list(dict.fromkeys(names))
    skeletons = {name: skeleton(name) for name in dict.fromkeys([*names, *among])}
    by_skeleton: dict[str, list[str]] = defaultdict(list)
    for name, looks in skeletons.items():
        by_skeleton[looks].append(name)
    notes: dict[str, str] = {}
    for name in names:
        parts: list[str] = []
        # A plain ASCII name mixes no scripts and hides nothing; it can only have a twin.
        scripts, odd = ([], []) if name.isascii() else _mixed_scripts(name)
        if odd:
            parts.append(f"mixes {' and '.join(scripts)} letters ({_describe(odd)})")
        hidden = [] if name.isascii() else [ch for ch in name if _invisible(ch)]
        if hidden:
            parts.append(f"has invisible characters ({_describe(hidden)})")
        twins = [other for other in by_skeleton[skeletons[name]] if other != name]
        if twins:
            shown = [_with_odd_letters(t) for t in twins[:_SHOWN]]
            if len(twins) > _SHOWN:
                shown.append(f"{len(twins) - _SHOWN} more")
            word = "instance" if len(twins) == 1 else "instances"
            listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
            parts.append(f"looks the same as {word} {listed}")
            own = [ch for ch in _non_ascii(name) if ch not in odd and ch not in hidden]
            if own:
                parts.append(f"this name has {_describe(own)}")
        if parts:
            notes[name] = "; ".join(parts)
    return notes


def warehouse_name_notes(warehouse: Warehouse, names: Iterable[str]) -> dict[str, str]:
    """``name_notes`` of NAMES (e.g. the instances an ingest run touched) among every instance WAREHOUSE holds.

    Cheap: the instances come from the audit's per-instance table, the
    entitlements and the manifest's record of instances ingested since the last
    audit, not from a scan of the events.
    """
    from auditor.queries import run_query

    names = list(names)
    if not names:
        return {}
    con = warehouse.connect()
    try:
        known = {row[0] for row in run_query(con, "ingest/known_instances").fetchall()}
    finally:
        con.close()
    known |= set(warehouse.state().pending_audit)
    return name_notes(names, known)


def printable(name: str) -> str:
    """NAME for a terminal: characters that do not print (controls, invisible ones) as ``\\uXXXX``."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in name)


def skeleton(name: str) -> str:
    """NAME as it looks: compatibility forms folded, invisible characters dropped, look-alikes made Latin, case folded."""
    if name.isascii():
        return name.lower()
    text = "".join(ch for ch in unicodedata.normalize("NFKC", name) if not _invisible(ch))
    text = "".join(LOOKALIKES.get(ch, ch) for ch in text).casefold()
    return "".join(LOOKALIKES.get(ch, ch) for ch in text)


def script(ch: str) -> str | None:
    """The script of letter CH (``Latin``, ``Cyrillic``, ``Greek``, ``Han`` …); None for anything but a letter.

    Compatibility forms count as the letter they stand for (fullwidth ``ａ`` is
    Latin); modifier letters belong to no one script.
    """
    folded = unicodedata.normalize("NFKC", ch)[:1] or ch
    if unicodedata.category(folded) not in ("Lu", "Ll", "Lt", "Lo"):
        return None
    words = unicodedata.name(folded, "").split()
    if not words:
        return None
    return _SCRIPT_WORDS.get(words[0], words[0].capitalize())


def _mixed_scripts(name: str) -> tuple[list[str], list[str]]:
    """The scripts mixed in NAME's labels (most used first) and the letters outside each label's main script."""
    mixed: dict[str, int] = defaultdict(int)
    odd: list[str] = []
    for label in _DOTS.split(name):
        counts: dict[str, int] = defaultdict(int)
        for ch in label:
            if (s := script(ch)) is not None:
                counts[s] += 1
        if len(counts) < 2 or any(set(counts) <= allowed for allowed in _ALLOWED_MIXES):
            continue
        # Latin first among equals: in a host name the odd letters are the others.
        ordered = sorted(counts, key=lambda s: (-counts[s], s != "Latin", s))
        odd += [ch for ch in label if script(ch) not in (None, ordered[0])]
        for s, n in counts.items():
            mixed[s] += n
    return sorted(mixed, key=lambda s: (-mixed[s], s != "Latin", s)), odd


def _invisible(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.category(ch) == "Cf" or any(lo <= code <= hi for lo, hi in _INVISIBLE_RANGES)


def _non_ascii(name: str) -> list[str]:
    return [ch for ch in name if not ch.isascii()]


def _describe(chars: Iterable[str]) -> str:
    """``Cyrillic а U+0430, Cyrillic о U+043E``: each distinct character once, the first few."""
    distinct = list(dict.fromkeys(chars))
    words = []
    for ch in distinct[:_SHOWN]:
        code = f"U+{ord(ch):04X}"
        s = script(ch)
        words.append(code if _invisible(ch) or s is None else f"{s} {ch} {code}")
    return ", ".join(words) + (", …" if len(distinct) > _SHOWN else "")


def _with_odd_letters(name: str) -> str:
    odd = _non_ascii(name)
    return f"{name} ({_describe(odd)})" if odd else name
