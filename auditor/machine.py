"""How much of the machine auditor uses in parallel.

Worker counts come from the machine (``os.cpu_count()``), capped per use, and an
operator who shares the machine can lower them all with ``AUDITOR_WORKERS``.
"""

from __future__ import annotations

import os

#: Names the most workers any stage runs at once (default: the machine's cores).
WORKERS_ENV = "AUDITOR_WORKERS"


def workers(*, cap: int) -> int:
    """Workers for one stage: the machine's cores (or $AUDITOR_WORKERS), at most CAP, at least 1."""
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    count = int(wanted) if wanted.isdigit() else (os.cpu_count() or 1)
    return max(1, min(count, cap))
