"""The claim registry. Claims register with :func:`register`; the CLI and docs read from here."""

from __future__ import annotations

from .._errors import InvalidArgument, UnknownName
from ._claim import Claim

__all__ = ["register", "get_claim", "claim_ids", "all_claims"]

_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique)."""
    if claim.id in _REGISTRY:
        raise InvalidArgument("claim.id", claim.id, "an id not registered yet")
    _REGISTRY[claim.id] = claim
    return claim


def get_claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id``; an unknown id lists the close matches."""
    _load()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise UnknownName("claim", claim_id, _REGISTRY) from None


def claim_ids() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def all_claims() -> list[Claim]:
    _load()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _load() -> None:
    """Import the modules that register claims (one per source paper)."""
    from . import venturi  # noqa: F401
