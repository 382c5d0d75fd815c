"""Safe, stable file names for instances, and the names the report writes at the top of OUT.

Instance names come from the logs: untrusted text. A report's folder name must
never leave the output folder, never collide with another instance's nor with a
file the report writes beside the folders (the overview ``index.html``, and the
temporary files it is written through), and stay the same from one run to the
next (the nightly batch re-renders a few instances and the overview links to
reports written by earlier runs).
"""

from __future__ import annotations

import hashlib
import re

#: The portfolio overview, ``OUT/index.html``.
OVERVIEW_FILE = "index.html"
#: Every file the report writes at the top of OUT (the instances' folders aside).
TOP_LEVEL_FILES = frozenset({OVERVIEW_FILE})
#: Endings of the files the report writes (pages, charts, evidence, messages, and the
#: temporary files they are written through): a folder named like one could be taken
#: for such a file, by a reader or by a later version that writes one more.
FILE_ENDINGS = (".html", ".htm", ".png", ".csv", ".eml", ".txt", ".tmp")
#: Changes whenever the rule below gives some name another folder: the nightly batch
#: then renders every report again, so that the overview never links to a missing one.
RULE_VERSION = 2

_ALLOWED = re.compile(r"[^a-z0-9._-]+")
_MAX_STEM = 80


def safe_name(instance: str) -> str:
    """A file-name stem for INSTANCE: itself when already safe, else a cleaned form plus a hash.

    A name is kept unchanged only when it is a lower-case host name (letters,
    digits, ``.``, ``_``, ``-``; not starting or ending with a dot, ``_`` or
    ``-``) that is not one of ``TOP_LEVEL_FILES`` and does not end like a file
    the report writes (``FILE_ENDINGS``). A name kept unchanged is unique because
    instance names are. A name that had to change gets 16 hex digits of its
    SHA-256 (two names that clean to the same text still differ) and a trailing
    underscore, which no unchanged name can have (cleaning strips it), so the two
    kinds never meet, and no changed name ends like a file. Stable: it depends on
    the name alone.
    """
    cleaned = _ALLOWED.sub("_", instance.lower()).strip("._-")[:_MAX_STEM]
    if cleaned == instance and cleaned and not _reserved(cleaned):
        return cleaned
    digest = hashlib.sha256(instance.encode("utf-8")).hexdigest()[:16]
    return f"{cleaned or 'instance'}-{digest}_"


def _reserved(name: str) -> bool:
    """Whether a folder called NAME could be confused with a file the report writes at the top of OUT."""
    return name in TOP_LEVEL_FILES or name.endswith(FILE_ENDINGS)
