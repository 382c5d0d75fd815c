"""Exit codes of the ``auditor`` command, documented in the README."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: The run failed; the warehouse is left as it was before the run.
    FAILED = 1
    #: A usage error: a bad option, a missing path, a directory that is not a warehouse,
    #: a warehouse a writing command may not write to, a statement ``auditor sql`` does not run.
    USAGE = 2
    #: ``nightly --fail-on-breach`` only: the run completed and found new breaches.
    BREACHES_FOUND = 3
    #: ``nightly --fail-on-finding`` only: the run completed and found new licence-term findings (same code).
    FINDINGS_FOUND = 3
