"""Loss evaluation shared by the path certificates: many points in chunks, points on pieces.

Part of :mod:`lstheory.paths._certify` (see its notes for the certificate kinds).
"""

from __future__ import annotations

import numpy as np
import torch

from ..nets import Data, capabilities


def _xy(data) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, Y)`` of a :class:`~lstheory.nets.Data` or of a pair ``(X, Y)``."""
    if isinstance(data, Data):
        return data.X, data.Y
    return torch.as_tensor(data[0]), torch.as_tensor(data[1])


def _n_data(data) -> int:
    """The number of data points (at least 1: it sizes chunks)."""
    return max(1, data.n if isinstance(data, Data) else len(data[0]))


def batched_loss(family, data, theta: torch.Tensor) -> torch.Tensor:
    """``family.loss`` on many points, chunk by chunk (see ``MLP.chunk_size``)."""
    n = _n_data(data)
    chunked = "chunked" in capabilities(family)
    chunk = family.chunk_size(n, theta.element_size()) if chunked else 256
    with torch.no_grad():
        return torch.cat(
            [family.loss(theta[i : i + chunk], data) for i in range(0, len(theta), chunk)]
        )


def _eval_pieces(coef: torch.Tensor, owner: np.ndarray, t: np.ndarray) -> torch.Tensor:
    """Points ``Σ_k coef[owner, k] t^k`` for arrays ``owner[T]``, ``t[T]``."""
    tt = torch.as_tensor(t, dtype=coef.dtype, device=coef.device)
    idx = torch.as_tensor(owner, device=coef.device, dtype=torch.long)
    out = coef[idx, -1]
    for k in range(coef.shape[1] - 2, -1, -1):  # Horner
        out = out * tt[:, None] + coef[idx, k]
    return out
