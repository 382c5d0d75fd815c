"""The kinds of licence-term finding the audit looks for (queries/audit/findings_*.sql write them),
each with a title in plain words and the documented licence term it touches: one list for the
reports that describe them and the generator that plants them."""

from __future__ import annotations

#: Each kind of licence-term finding: a title in plain words, and the documented term it touches
#: (ERP.net's licensing terms: ErpNetDocs/dev:auth/sessions/license-compliance.md, session-revocation.md).
_TOKEN_SHARING = ("Token sharing: a session or access token may not be shared by several users, machines or "
                  "processes; each must log in with a session of its own.")
FINDING_KINDS: dict[str, tuple[str, str]] = {
    "shared_session_devices": ("One session used from several devices", _TOKEN_SHARING),
    "shared_session_users": ("One session used by several users", _TOKEN_SHARING),
    "parallel_requests": (
        "Parallel requests through one session",
        ("Session multiplexing: parallel requests through one session on behalf of different users or clients; "
         "an application that combines the work of several users uses as many sessions."),
    ),
    "logout_cycling": (
        "Logging out and in again while the sessions were full",
        "Cycling logout and login to keep the number of concurrent sessions down.",
    ),
}
