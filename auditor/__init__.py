"""auditor: license-compliance auditing for ERP.net instances licensed by concurrent sessions.

The data's path through the package: ``ingest`` (connection logs → warehouse) →
``sessions`` → ``usage`` → ``audit`` (against entitlements) → ``report``.

From Python: ``auditor.open(path)`` reads a warehouse (``auditor.api``).
"""

from __future__ import annotations

import os

# typing.TYPE_CHECKING without importing typing: `import auditor` stays near-free.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from auditor.api import WarehouseReader

__version__ = "0.1.0"
__all__ = ["__version__", "open"]


def open(path: str | os.PathLike[str] | None = None) -> WarehouseReader:
    """The warehouse at PATH pinned at its last commit, for reading from Python (``auditor.api.WarehouseReader``).

    PATH None: ``$AUDITOR_WAREHOUSE``, else ``./warehouse``, as the command line.
    Use it in a ``with`` block, or ``close()`` it, so that writers may delete the files commits replaced.
    """
    # DuckDB and pyarrow load here, on first use, not on import.
    from auditor.api import open_warehouse

    return open_warehouse(path)
