"""auditor's own exception types.

Library code raises these; the CLI turns each into one line on stderr and the
exit code the class names. Nothing below the CLI knows about Click.
"""

from __future__ import annotations

from auditor.exitcodes import ExitCode


class AuditorError(Exception):
    """Base class: a run that could not be completed."""

    exit_code: ExitCode = ExitCode.FAILED


class UsageError(AuditorError):
    """The command line or one of the files it names is wrong: the user must fix it."""

    exit_code = ExitCode.USAGE


class NotAWarehouseError(UsageError):
    """A directory was named as a warehouse but does not hold one."""


class InputFileError(UsageError):
    """An input path is missing, unreadable or of a kind auditor cannot read."""


class WarehouseError(AuditorError):
    """The warehouse is in a state auditor cannot work with (missing files, bad manifest)."""


class WarehouseBusyError(AuditorError):
    """Another auditor process holds the warehouse's write lock."""


class WarehouseNotWritableError(UsageError):
    """A command that writes was pointed at a warehouse (or a place for one) this process may not write to."""


class WarehouseWriteError(WarehouseError):
    """A run failed while writing (a full disk, an I/O error) and committed nothing."""


class AuditorWarning(UserWarning):
    """Something the user must know about a run that succeeded.

    Library code warns with it (``warnings.warn``) instead of printing; the CLI
    shows each as one line, ``auditor: warning: ...``, and keeps the exit status.
    """
