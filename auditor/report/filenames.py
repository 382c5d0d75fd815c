"""Safe, stable file names for instances.

Instance names come from the logs: untrusted text. A report's file name must
never leave the output folder, never collide with another instance's and stay
the same from one run to the next (the nightly batch re-renders a few instances
and the overview links to reports written by earlier runs).
"""

from __future__ import annotations

import hashlib
import re

_ALLOWED = re.compile(r"[^a-z0-9._-]+")
_MAX_STEM = 80


def safe_name(instance: str) -> str:
    """A file-name stem for INSTANCE: itself when already safe, else a cleaned form plus a hash.

    A name kept unchanged is unique because instance names are. A name that had
    to change gets 16 hex digits of its SHA-256 (two names that clean to the same
    text still differ) and a trailing underscore, which no unchanged name can
    have (cleaning strips it), so the two kinds never meet. Stable: it depends on
    the name alone.
    """
    cleaned = _ALLOWED.sub("_", instance.lower()).strip("._-")[:_MAX_STEM]
    if cleaned == instance and cleaned:
        return cleaned
    digest = hashlib.sha256(instance.encode("utf-8")).hexdigest()[:16]
    return f"{cleaned or 'instance'}-{digest}_"
