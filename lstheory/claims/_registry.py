"""The claim registry. Claims register with :func:`register`; the CLI and docs read from here."""

from __future__ import annotations

from .._errors import InvalidArgument, UnknownName
from ._claim import MUTANT_SEP, Claim

__all__ = ["register", "get_claim", "claim_ids", "all_claims"]

_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique)."""
    if claim.id in _REGISTRY:
        raise InvalidArgument("claim.id", claim.id, "an id not registered yet")
    _REGISTRY[claim.id] = claim
    return claim


def get_claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id``; an unknown id lists the close matches.

    ``CLAIM~MUTANT`` names a mutant of CLAIM (a false variant, see ``lstheory selftest``)."""
    _load()
    if MUTANT_SEP in claim_id:
        base, name = claim_id.split(MUTANT_SEP, 1)
        return get_claim(base).mutant(name)
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


_LOADED = False


def _load() -> None:
    """Import every public module of this package: each registers the claims of one paper."""
    global _LOADED
    if _LOADED:
        return
    import importlib
    import pkgutil

    from .. import claims

    for mod in sorted(pkgutil.iter_modules(claims.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{claims.__name__}.{mod.name}")
    _LOADED = True
