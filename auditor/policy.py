"""The session policy: when a segment ends and which user types the licence ignores.

ERP.net's documentation gives these numbers (see ../shared/domain): a session
closes 20 minutes after its latest request, a client-credentials session expires
1 hour after it opened, and virtual users never count. They are settings with
those defaults, so that the compliance team can follow a policy change without
a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Policy:
    #: A segment ends this long after its latest login or request.
    idle_timeout: timedelta = timedelta(minutes=20)
    #: Per auth flow (lower-case), a segment ends this long after it opened.
    absolute_expiry: dict[str, timedelta] = field(
        default_factory=lambda: {"client_credentials": timedelta(hours=1)}
    )
    #: Sessions of these user types (upper-case) are kept but never counted.
    uncounted_user_types: frozenset[str] = frozenset({"VIR"})
    #: The usual interval between two polls of an instance's live sessions: an instant this close to a
    #: successful poll is covered; consecutive polls more than twice this apart leave a gap.
    poll_interval: timedelta = timedelta(minutes=5)
    #: An audit-log login matches a polled session of the same user that started this close to it.
    login_match: timedelta = timedelta(seconds=5)

    # --- licence-term findings (queries/audit/findings_*.sql): a finding is an allegation, so each
    # threshold is set where an honest client cannot reach it by chance.
    #: A polled session with at least this many requests in progress at once is serving requests in
    #: parallel: ERP.net serves one request at a time per session (queue of 5), so 2 is already too many.
    parallel_min_requests: int = 2
    #: ... in at least this many polls of one local day: one or two polls may catch a client's retry
    #: racing its own timed-out request; three in a day is a habit, not an accident.
    parallel_min_polls: int = 3
    #: A logout followed by a login of the same user on the same device this soon is a cycle: a person
    #: who really leaves takes longer than a minute to come back.
    cycling_gap: timedelta = timedelta(seconds=60)
    #: ... at least this many times in one local day, each at or above the seat limit: an occasional
    #: re-login to fix a glitch happens once or twice, a tool that frees its seat on purpose many times.
    cycling_min_cycles: int = 5

    def expiry_for(self, auth_flow: str | None) -> timedelta | None:
        if auth_flow is None:
            return None
        return self.absolute_expiry.get(auth_flow)

    def counts(self, user_type: str | None) -> bool:
        return user_type not in self.uncounted_user_types


DEFAULT_POLICY = Policy()
