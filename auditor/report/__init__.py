"""Compliance reports for account managers and the portfolio overview (issue 4).

``render_reports(warehouse, out_dir, ...)`` reads the audit's tables and writes,
per instance, ``OUT/<instance>/<period>.html`` with its PNG charts (and, with
``eml=True``, a ready-to-send ``.eml``), then ``OUT/index.html``.
"""

from auditor.report.batch import ReportResult, render_reports

__all__ = ["ReportResult", "render_reports"]
