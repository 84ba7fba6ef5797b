"""lstheory: theorems about neural-network loss landscapes as checkable claims.

The front door::

    import lstheory
    verdict = lstheory.verify("venturi", n_data=20, seed=0)
    print(verdict)

Packages: ``lstheory.nets`` (families on flat parameter vectors), ``lstheory.paths`` (paths,
certificates, level-set graphs), ``lstheory.claims`` (claims, verdicts, registry),
``lstheory.testing`` (hypothesis strategies for your own CI).
"""

from ._errors import (  # noqa: E402
    BackendUnavailable,
    HypothesisNotMet,
    InvalidArgument,
    LstheoryError,
    ResourceLimit,
    UnknownName,
)
from ._version import __version__, source_revision  # noqa: E402
from .claims import Outcome, Verdict, all_claims, claim_ids, get_claim  # noqa: E402


def verify(claim: str, *, seed: int = 0, budget: str = "default", progress=True,
           **options) -> Verdict:
    """Check ``claim`` on the instance its ``options`` describe and return the :class:`Verdict`.

    ``verify("venturi", n_data=20)`` is ``lstheory verify venturi --n-data 20``.

    ``progress=True`` (the default) reports the check's stages on stderr (a bar in Jupyter)
    once it has run for a couple of seconds, so a quick check prints nothing; ``False`` is
    silent; a callable receives each stage message. See :meth:`lstheory.claims.Claim.check`
    for ``device`` and ``plot``.
    """
    return get_claim(claim).check(seed=seed, budget=budget, progress=progress, **options)


__all__ = [
    "BackendUnavailable",
    "HypothesisNotMet",
    "InvalidArgument",
    "LstheoryError",
    "Outcome",
    "ResourceLimit",
    "UnknownName",
    "Verdict",
    "__version__",
    "source_revision",
    "all_claims",
    "claim_ids",
    "get_claim",
    "verify",
]
