"""The tracker's evaluator (:class:`_Homotopy`) against a direct numpy evaluation of H, ∂H/∂z and
∂H/∂t, over random systems, coefficient polynomials in t and batches of paths, on each of its
product layouts (shared coefficients; per-system coefficients grouped, split into shared and
varying terms, or gathered per path)."""

import contextlib
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstheory.algebra.tracker import homotopy as H

pytestmark = pytest.mark.usefixtures("module_one_thread")

LAYOUTS = ("shared", "grouped", "split", "gather")


def _rc(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


@st.composite
def homotopies(draw):
    """Terms (equation, exponents over z with nz = n + 1), coefficients ``[S, K+1, T]``, the
    paths' systems (sorted) and the rows of one call (a sorted subset: a compacted batch)."""
    nz = draw(st.integers(2, 4))
    max_deg = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    term_eq, term_exp = [], []
    for i in range(nz - 1):
        for _ in range(int(rng.integers(1, 6))):
            e = np.zeros(nz, dtype=np.int64)
            for _ in range(int(rng.integers(0, max_deg + 1))):
                e[rng.integers(nz)] += 1
            term_eq.append(i)
            term_exp.append(e)
    layout = draw(st.sampled_from(LAYOUTS))
    K = draw(st.integers(0, 3))
    T = len(term_eq)
    S = 1 if layout == "shared" else int(rng.integers(2, 6))
    coeffs = _rc(rng, S, K + 1, T)
    if layout == "split":  # one term differs between the systems, the rest are shared
        coeffs[:, :, 1:] = coeffs[:1, :, 1:]
        coeffs[:, :, 0] = _rc(rng, S, K + 1)
    if draw(st.booleans()):  # all but the first term constant in t (monodromy's legs)
        coeffs[:, 1:, 1:] = 0
    per = rng.integers(0, 5, size=S)
    per[rng.integers(S)] += 1  # at least one path
    system_of = np.repeat(np.arange(S), per)
    rows = np.flatnonzero(rng.random(len(system_of)) < 0.7)
    if not len(rows):
        rows = np.arange(len(system_of))
    return (np.array(term_eq), np.array(term_exp), coeffs, nz - 1, _rc(rng, nz), system_of,
            rows, layout, rng)


def _reference(term_eq, term_exp, coeffs, chart, z, t):
    """(H, J, H_t, and the termwise size of each) at z[B, nz], t[B]; coeffs[B, K+1, T]."""
    B, nz = z.shape
    K = coeffs.shape[1] - 1
    # the chart a·z − 1 as equation n: terms a_j z_j and −1, constant in t
    eq = np.concatenate([term_eq, np.full(nz + 1, nz - 1)])
    exp = np.concatenate([term_exp, np.eye(nz, dtype=np.int64), np.zeros((1, nz), np.int64)])
    chart_c = np.zeros((B, K + 1, nz + 1), dtype=complex)
    chart_c[:, 0] = np.append(chart, -1.0)
    c = np.concatenate([coeffs, chart_c], -1)
    k = np.arange(K + 1)
    ct = np.einsum("bk,bkt->bt", t[:, None] ** k, c)
    dct = np.einsum("bk,bkt->bt", k * t[:, None] ** np.maximum(k - 1, 0), c)
    mon = np.prod(z[:, None, :] ** exp[None], -1)  # [B, T]
    dmon = np.empty((B, len(eq), nz), dtype=complex)
    for j in range(nz):
        e = exp.copy()
        e[:, j] = np.maximum(e[:, j] - 1, 0)
        dmon[:, :, j] = exp[:, j] * np.prod(z[:, None, :] ** e[None], -1)
    onehot = (eq[:, None] == np.arange(nz)[None]).astype(float)  # [T, nz]
    Hv = (ct * mon) @ onehot
    J = np.einsum("bt,btj,ti->bij", ct, dmon, onehot)
    Ht = (dct * mon) @ onehot
    size = (np.abs(ct) * np.abs(mon)) @ onehot + (np.abs(dct) * np.abs(mon)) @ onehot
    Jsize = np.einsum("bt,btj,ti->bij", np.abs(ct), np.abs(dmon), onehot)
    return Hv, J, Ht, size, Jsize


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(homotopies(), st.booleans(), st.booleans())
def test_evaluate_equals_direct_evaluation(case, need_t, need_j):
    """H, J and H_t of every path of the call equal the direct sums of their terms to a few
    units of rounding in the terms' size, on every layout (which layout ran is checked), and
    without the Jacobian (``need_j=False``: the value columns only)."""
    term_eq, term_exp, coeffs, n, chart, system_of, rows, layout, rng = case
    patches = {"grouped": {"SPLIT_SHARE": -1.0},
               "gather": {"GROUPED_SYSTEMS": 0, "SPLIT_SHARE": -1.0},
               "split": {}, "shared": {}}[layout]
    with mock.patch.multiple(H, **patches) if patches else contextlib.nullcontext():
        hom = H._Homotopy(term_eq, term_exp, coeffs[0] if layout == "shared" else coeffs, n,
                          chart, "cpu", None if layout == "shared" else system_of)
    assert (hom.shared, hom.grouped, hom.split) == (layout == "shared", layout == "grouped",
                                                    layout == "split")
    nz = n + 1
    z = _rc(rng, len(rows), nz) * rng.choice([0.1, 1.0, 10.0], size=(len(rows), 1))
    t = _rc(rng, len(rows))
    got = hom.evaluate(torch.as_tensor(z), torch.as_tensor(t), torch.as_tensor(rows),
                       need_t=need_t, need_j=need_j)
    sys_rows = np.zeros(len(rows), dtype=np.int64) if layout == "shared" else system_of[rows]
    Hv, J, Ht, size, Jsize = _reference(term_eq, term_exp, coeffs[sys_rows], chart, z, t)
    tol = 1e-13
    np.testing.assert_array_less(np.abs(got[0].numpy() - Hv), tol * (size + 1e-300) + 1e-300)
    if need_j:
        np.testing.assert_array_less(np.abs(got[1].numpy() - J), tol * (Jsize + 1e-300) + 1e-300)
    else:
        assert got[1] is None
    if need_t:
        np.testing.assert_array_less(np.abs(got[2].numpy() - Ht), tol * (size + 1e-300) + 1e-300)
    else:
        assert got[2] is None


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 5), st.integers(0, 12), st.integers(0, 2**32 - 1))
def test_product_chain_gives_every_monomial(nz, max_deg, seed):
    """The product chain's monomials equal Π z_j^{e_j} for exponents up to degree 12 (several
    halving levels), in the table's order, with the constant monomial 1."""
    rng = np.random.default_rng(seed)
    exps = {tuple(int(v) for v in rng.multinomial(int(rng.integers(0, max_deg + 1)),
                                                  np.ones(nz) / nz)) for _ in range(20)}
    exps = sorted(exps) + [(0,) * nz]
    z = _rc(rng, 7, nz)
    x = torch.nn.functional.pad(torch.as_tensor(z), (1, 0), value=1.0)
    for a, b in H._product_chain(exps):
        x = x.index_select(1, torch.as_tensor(a)) * x.index_select(1, torch.as_tensor(b))
    want = np.prod(z[:, None, :] ** np.array(exps)[None], -1)
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-13 * (max_deg + 1), atol=0)


def test_the_drivers_inference_mode_stays_inside_them():
    """The drivers run under ``torch.inference_mode``; it ends with them, and the term tables
    they cache are normal tensors: a homotopy built later on the same terms, outside, can be
    evaluated under autograd (before the fix, an inference tensor from the cache raised)."""
    from lstheory.algebra import katsura
    from lstheory.algebra.tracker import track_total_degree

    C = katsura(2).compiled
    n = C.n_variables
    # the terms of the total-degree homotopy, as the driver builds them (its cache entry)
    g_exp = np.zeros((2 * n, n + 1), dtype=np.int64)
    for i, d in enumerate(C.degrees):
        g_exp[2 * i, i + 1], g_exp[2 * i + 1, 0] = d, d
    term_eq = np.concatenate([C.term_eq, np.repeat(np.arange(n), 2)])
    term_exp = np.concatenate([H._homogeneous_terms(C), g_exp])
    H._tables.cache_clear()
    r = track_total_degree(C, seed=0)[0]
    assert sum(s.value == "finite" for s in r.status) == 4
    assert not torch.is_inference_mode_enabled()
    coeffs = _rc(np.random.default_rng(0), 2, len(term_eq))
    hom = H._Homotopy(term_eq, term_exp, coeffs, n, _rc(np.random.default_rng(1), n + 1), "cpu")
    assert not torch.is_inference(hom.e_col) and not torch.is_inference(hom.chain[0][0])
    z = torch.as_tensor(_rc(np.random.default_rng(2), 3, n + 1)).requires_grad_(True)
    Hv, J, _ = hom.evaluate(z, torch.full((3,), 0.3 + 0.1j, dtype=torch.complex128),
                            torch.arange(3))
    Hv.real.sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()
