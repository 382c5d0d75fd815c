"""A ready-to-send .eml per report: text, HTML, and its PNGs attached by Content-ID.

Structure (what Gmail and Outlook show inline)::

    multipart/alternative
      text/plain
      multipart/related
        text/html            <img src="cid:...">
        image/png (Content-ID)...
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from auditor.report.charts import Chart
from auditor.report.context import ReportContext

DEFAULT_SENDER = "auditor@localhost"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def content_ids(report: ReportContext, charts: Mapping[str, Chart]) -> dict[str, str]:
    """A stable Content-ID (without angle brackets) per chart: the same report gives the same message."""
    f = report.figures
    tag = hashlib.sha256(f"{f.instance}\0{f.period.key}".encode()).hexdigest()[:12]
    return {name: f"{name}-{f.period.key}-{tag}@auditor.report" for name in charts}


def header_text(value: str) -> str:
    """Untrusted text made safe for a header: no line breaks (no header injection)."""
    return " ".join(_CONTROL.sub(" ", value).split())


def recipient(account_manager: str | None) -> str | None:
    """The account manager's address when it is one, else None (the .eml then has no To:)."""
    if not account_manager or _CONTROL.search(account_manager):
        return None
    name, addr = parseaddr(account_manager)
    if not _ADDRESS.match(addr):
        return None
    try:
        return str(Address(display_name=name, addr_spec=addr))
    except (ValueError, IndexError):
        return None


#: Starts the subject of a report whose instance name could be mistaken for another's.
LOOKALIKE_MARK = "[look-alike name]"


def subject(report: ReportContext) -> str:
    f = report.figures
    verdict = "compliant" if f.compliant else f.status_label.lower()
    mark = f"{LOOKALIKE_MARK} " if f.name_note else ""
    return header_text(f"{mark}Concurrent sessions – {f.customer or f.instance} – {f.period.title} ({verdict})")


def build_message(
    report: ReportContext,
    html: str,
    text: str,
    charts: Mapping[str, Chart],
    cids: Mapping[str, str],
    *,
    sender: str = DEFAULT_SENDER,
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(report)
    msg["From"] = sender
    to = recipient(report.figures.account_manager)
    if to:
        msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["X-Auditor-Instance"] = header_text(report.figures.instance)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    for name, chart in charts.items():
        html_part.add_related(
            Path(chart.path).read_bytes(), "image", "png", cid=f"<{cids[name]}>", filename=Path(chart.path).name
        )
    return msg
