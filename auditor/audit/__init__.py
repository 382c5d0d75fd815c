"""The audit: sessions, exact concurrency and compliance, from the warehouse's events.

``run_audit`` audits everything; ``reaudit_pending`` (what ``auditor nightly`` runs)
audits only what ingest recorded as new, and gives the same tables. Both run
through one runner (runner.py): restart points and history (restart.py), the
engine's statements (engine.py, ``queries/audit/``), and the replacement of the
output partitions derived from the tables' declarations (outputs.py).
"""

from auditor.audit.runner import ENGINE_VERSION, AuditResult, Breach, reaudit_pending, run_audit, stored_entitlements

__all__ = ["ENGINE_VERSION", "AuditResult", "Breach", "reaudit_pending", "run_audit", "stored_entitlements"]
