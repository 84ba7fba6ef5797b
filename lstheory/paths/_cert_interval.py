"""The ``interval-bound`` certificate: Taylor boxes pushed through an MLP by interval arithmetic,
bisected until the bound is within tolerance (see :mod:`lstheory.paths._certify`'s notes).
"""

from __future__ import annotations

import numpy as np
import torch

from ._cert_eval import _eval_pieces, _n_data, _xy, batched_loss


# ---------------------------------------------------------------------------- interval bounds
def _taylor_box(coef: torch.Tensor, owner, t0, t1):
    """Centre and radius ``[I, P]`` of a box holding piece ``owner[i]`` on ``[t0[i], t1[i]]``."""
    tm = torch.as_tensor((t0 + t1) / 2, dtype=coef.dtype, device=coef.device)
    h = torch.as_tensor((t1 - t0) / 2, dtype=coef.dtype, device=coef.device)
    c = coef[torch.as_tensor(owner, device=coef.device, dtype=torch.long)]  # [I, d+1, P]
    d = c.shape[1] - 1
    # Taylor coefficients at tm: D_j = Σ_{k≥j} C(k, j) c_k tm^{k−j}
    centre = torch.zeros_like(c[:, 0])
    radius = torch.zeros_like(c[:, 0])
    from math import comb

    for j in range(d + 1):
        Dj = sum(comb(k, j) * c[:, k] * tm[:, None] ** (k - j) for k in range(j, d + 1))
        if j == 0:
            centre = Dj
        else:
            radius = radius + Dj.abs() * h[:, None] ** j
    return centre, radius


def _interval_act(act, lo, hi):
    if act.name == "quadratic":
        a2, b2 = lo * lo, hi * hi
        straddle = (lo <= 0) & (hi >= 0)
        low = torch.where(straddle, torch.zeros_like(lo), torch.minimum(a2, b2))
        return low, torch.maximum(a2, b2)
    return act(lo), act(hi)  # monotone non-decreasing


def _interval_loss_upper(family, data, centre: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Rigorous upper bounds ``[I]`` of the loss over the parameter boxes ``centre ± radius``."""
    X, Y = _xy(data)
    X, Y = X.to(centre.device, centre.dtype), Y.to(centre.device)
    pc, pr = family.unflatten(centre), family.unflatten(radius)
    fi = torch.finfo(centre.dtype)  # rounding allowance of the path's own dtype
    hc = X.expand(centre.shape[0], *X.shape)
    hr = torch.zeros_like(hc)
    for ell in range(1, family.depth + 1):
        Wc, Wr = pc[f"W{ell}"], pr[f"W{ell}"]
        zc = hc @ Wc.transpose(1, 2)
        zr = hr @ Wc.abs().transpose(1, 2) + (hc.abs() + hr) @ Wr.transpose(1, 2)
        if family.bias:
            zc, zr = zc + pc[f"b{ell}"][:, None], zr + pr[f"b{ell}"][:, None]
        zr = zr * (1 + 8 * fi.eps) + fi.tiny + 4 * fi.eps * zc.abs()
        lo, hi = zc - zr, zc + zr
        if ell < family.depth:
            lo, hi = _interval_act(family.activation, lo, hi)
        hc, hr = (lo + hi) / 2, (hi - lo) / 2
    lo, hi = hc - hr, hc + hr
    if family.loss_kind == "square":
        Yf = Y.to(centre.dtype).reshape(X.shape[0], -1)
        worst = torch.maximum((lo - Yf).square(), (hi - Yf).square())
        return worst.sum(dim=(1, 2)) / X.shape[0]
    labels = Y.long()
    lse = torch.logsumexp(hi, dim=2)
    z_y = lo.gather(2, labels[None, :, None].expand(lo.shape[0], -1, 1))[..., 0]
    return (lse - z_y).mean(dim=1)


def _interval_upper_batched(family, data, coef, owner, t0, t1):
    n = _n_data(data)
    chunk = max(1, family.chunk_size(n, coef.element_size()) // 4)
    out = []
    with torch.no_grad():
        for i in range(0, len(owner), chunk):
            c, r = _taylor_box(coef, owner[i : i + chunk], t0[i : i + chunk], t1[i : i + chunk])
            out.append(_interval_loss_upper(family, data, c, r))
    return torch.cat(out).double().cpu().numpy() * (1 + 64 * torch.finfo(coef.dtype).eps)


def _update_lower(lower, best, path_of_piece, owner, t, values):
    """Raise each path's sampled maximum ``lower[path]`` (and its place) with new samples."""
    for o, x, v in zip(owner, t, values):
        p = path_of_piece[o]
        if v > lower[p]:
            lower[p] = v
            best[p] = ((o, x), v)


def _interval_certify(family, data, coef, path_of_piece, n_paths, *, rtol, atol, max_intervals,
                      level=None):
    """Adaptive bisection until every box bound is within tolerance of its path's sampled max
    (or below ``level`` where given); returns per-interval arrays."""
    S = len(coef)
    init = 8
    owner = np.repeat(np.arange(S), init)
    t0 = np.tile(np.arange(init) / init, S)
    t1 = t0 + 1.0 / init
    ub = _interval_upper_batched(family, data, coef, owner, t0, t1)
    samp_t = np.concatenate([t0, t1, (t0 + t1) / 2])
    samp_o = np.concatenate([owner, owner, owner])
    sv = batched_loss(family, data, _eval_pieces(coef, samp_o, samp_t)).double().cpu().numpy()
    lower = np.full(n_paths, -np.inf)
    best_t: dict[int, tuple] = {}
    _update_lower(lower, best_t, path_of_piece, samp_o, samp_t, sv)
    while True:
        with np.errstate(invalid="ignore"):
            target = lower + rtol * np.abs(lower) + atol
        if level is not None:
            target = np.maximum(target, level)
        bad = ub > target[path_of_piece[owner]]
        if not bad.any() or len(owner) + bad.sum() > max_intervals:
            break
        mid = (t0[bad] + t1[bad]) / 2
        o_new = np.concatenate([owner[bad], owner[bad]])
        a_new = np.concatenate([t0[bad], mid])
        b_new = np.concatenate([mid, t1[bad]])
        ub_new = _interval_upper_batched(family, data, coef, o_new, a_new, b_new)
        st = (a_new + b_new) / 2
        sv = batched_loss(family, data, _eval_pieces(coef, o_new, st)).double().cpu().numpy()
        _update_lower(lower, best_t, path_of_piece, o_new, st, sv)
        keep = ~bad
        owner = np.concatenate([owner[keep], o_new])
        t0 = np.concatenate([t0[keep], a_new])
        t1 = np.concatenate([t1[keep], b_new])
        ub = np.concatenate([ub[keep], ub_new])
    return owner, ub, lower, best_t
