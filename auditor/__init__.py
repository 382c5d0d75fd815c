"""auditor: license-compliance auditing for ERP.net instances licensed by concurrent sessions.

The data's path through the package: ``ingest`` (connection logs → warehouse) →
``sessions`` → ``usage`` → ``audit`` (against entitlements) → ``report``.
"""

__version__ = "0.1.0"
