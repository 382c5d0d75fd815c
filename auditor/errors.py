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
