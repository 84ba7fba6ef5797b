"""The one place where a user's ``seed`` becomes random generators.

A seed is normalised once (:func:`normalize_seed`), recorded in every result, and split into
independent child seeds with :class:`numpy.random.SeedSequence` so that restart ``i`` of a run
with seed ``s`` is the same whatever else the run does.
"""

from __future__ import annotations

import numpy as np
import torch

from ._errors import InvalidArgument

__all__ = ["normalize_seed", "child_seeds", "numpy_rng", "torch_generator"]

_MAX_SEED = 2**63 - 1


def normalize_seed(seed: object) -> int:
    """Return ``seed`` as a non-negative int, or raise :class:`InvalidArgument`."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidArgument("seed", seed, f"an integer in [0, {_MAX_SEED}]")
    if not 0 <= int(seed) <= _MAX_SEED:
        raise InvalidArgument("seed", seed, f"an integer in [0, {_MAX_SEED}]")
    return int(seed)


def child_seeds(seed: int, n: int, *, stream: str = "") -> list[int]:
    """``n`` independent seeds derived from ``seed`` and a stream name (stable across runs)."""
    key = [normalize_seed(seed)] + [ord(c) for c in stream]
    children = np.random.SeedSequence(key).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] & _MAX_SEED) for c in children]


def numpy_rng(seed: int, *, stream: str = "") -> np.random.Generator:
    """A numpy generator for ``seed`` (and an optional named stream)."""
    return np.random.default_rng(child_seeds(seed, 1, stream=stream)[0])


def torch_generator(seed: int, *, stream: str = "", device: str | torch.device = "cpu"):
    """A torch generator on ``device`` seeded from ``seed`` (and an optional named stream)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(child_seeds(seed, 1, stream=stream)[0])
    return gen
