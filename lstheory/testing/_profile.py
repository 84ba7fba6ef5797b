"""A hypothesis settings profile for property tests that run lstheory's checkers.

A claim check takes from a fraction of a second to a few seconds, far over hypothesis's 200 ms
default deadline, and its inputs are cheap to draw but slow to use. The profile ``"lstheory"``
(registered on import; loading it is the user's choice, never done for them) turns the deadline
off, runs a few examples, and does not flag slow data generation::

    from hypothesis import given, settings
    from lstheory.testing import venturi_instances, SETTINGS

    @SETTINGS
    @given(venturi_instances(regime="connected"))
    def test_my_construction(opts): ...

or, for a whole test session, ``settings.load_profile("lstheory")`` in your ``conftest.py``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "SETTINGS"]

PROFILE = "lstheory"

settings.register_profile(
    PROFILE,
    deadline=None,
    max_examples=10,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
    derandomize=False,
)

#: the profile as a decorator: ``@SETTINGS`` above ``@given(...)``
SETTINGS = settings(settings.get_profile(PROFILE))
