"""How hard the property tests try.

Every run uses the quick profile unless ``HYPOTHESIS_PROFILE=thorough`` (what
.ci/run sets): then each property test draws ``THOROUGH`` times as many examples.
Tests give their quick count through ``examples(n)``, so that one switch scales them all
(``examples(n, thorough=m)`` where a test is too slow to draw n on every run).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: How many times the quick count of examples a thorough run draws.
THOROUGH = 3

settings.register_profile(
    "quick",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", parent=settings.get_profile("quick"))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")
settings.load_profile(PROFILE)


def examples(quick: int, thorough: int | None = None) -> int:
    """The number of examples a property test draws: QUICK, or in a thorough run THOROUGH (default
    ``THOROUGH`` times QUICK). The slowest tests draw few examples on a developer's run and keep
    their depth in CI, which runs thorough."""
    if PROFILE != "thorough":
        return quick
    return thorough if thorough is not None else quick * THOROUGH
