"""The Lanczos route of classical MDS against the dense one, over the inputs the dense one takes.

Issue 17: ``solver="lanczos"`` raised ``ArpackNoConvergence`` on ordinary Euclidean distances
(300 Gaussian points in 20-D; a spiral in 50-D), where ``B`` is positive semidefinite with a large
cluster of zero eigenvalues. The properties: both routes agree on the top eigenpairs (vectors up
to sign where the spectrum has a gap) and on the negative-spectrum report (whether there are
negative eigenvalues, the most negative one, and how many among those probed).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from lstheory.mds import ClassicalMDS

KINDS = ("euclidean", "cosine-as-distance", "cosine-squared", "cityblock", "perturbed")


def _input(kind: str, n: int, dim: int, seed: int) -> tuple[np.ndarray, bool]:
    """(dissimilarities, squared) of one kind: Euclidean, cosine, or non-Euclidean."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)) * rng.uniform(0.2, 3.0, size=dim)
    if kind == "euclidean":
        return cdist(x, x), False
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    one_minus_cos = np.clip(1.0 - u @ u.T, 0.0, None)
    np.fill_diagonal(one_minus_cos, 0.0)
    one_minus_cos = 0.5 * (one_minus_cos + one_minus_cos.T)
    if kind == "cosine-as-distance":  # the paper's recipe: not Euclidean
        return one_minus_cos, False
    if kind == "cosine-squared":  # 2(1 − cos) is a squared Euclidean distance
        return 2.0 * one_minus_cos, True
    if kind == "cityblock":  # L1 distances: not Euclidean in general
        return cdist(x, x, "cityblock"), False
    d = cdist(x, x)
    e = rng.uniform(0.0, 0.3, size=(n, n)) * d.mean()  # symmetric noise off the diagonal
    d = d + np.triu(e, 1) + np.triu(e, 1).T
    return d, False


def _spiral(n: int = 120, dim: int = 50) -> np.ndarray:
    t = np.linspace(0.0, 4 * np.pi, n)
    x = np.zeros((n, dim))
    x[:, 0], x[:, 1], x[:, 2] = t * np.cos(t), t * np.sin(t), t
    return cdist(x, x)


def _agree(d: np.ndarray, squared: bool, k: int) -> None:
    dense = ClassicalMDS(k, squared=squared).fit(d)
    fast = ClassicalMDS(k, squared=squared, solver="lanczos").fit(d)
    wd, wf = dense.eigenvalues_, fast.eigenvalues_
    lam = wd[0]
    np.testing.assert_allclose(wf[:k], wd[:k], rtol=0, atol=1e-9 * lam)
    # eigenvectors up to sign, where the top k are separated from each other and the rest
    gaps = -np.diff(wd[: k + 1]) / lam
    for j in range(k):
        if min(gaps[j], gaps[j - 1] if j else np.inf) > 1e-3:
            c = abs(dense._vectors[:, j] @ fast._vectors[:, j])
            assert c == pytest.approx(1.0, abs=1e-6)
    # the negative-spectrum report
    dd, df = dense.diagnostics_, fast.diagnostics_
    assert (dd.n_negative > 0) == (df.n_negative > 0), (dd.message, df.message)
    assert df.most_negative == pytest.approx(dd.most_negative, abs=1e-9 * lam)
    if np.isnan(df.negative_mass):  # the partial route: negatives among the probed ones
        probed = wf.size - k
        assert df.n_negative == min(dd.n_negative, probed)
        neg = np.sort(wf[k:][wf[k:] < -fast.tol * lam])
        np.testing.assert_allclose(neg, wd[::-1][: neg.size], rtol=0, atol=1e-9 * lam)
        assert "Lanczos" in df.message
    else:  # a dense fallback: the same report
        assert df.n_negative == dd.n_negative and df.negative_mass == dd.negative_mass


@settings(deadline=None, max_examples=40)
@given(
    kind=st.sampled_from(KINDS),
    n=st.sampled_from([12, 40, 90, 160, 300]),
    dim=st.integers(2, 60),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_lanczos_and_dense_agree(kind, n, dim, k, seed):
    d, squared = _input(kind, n, dim, seed)
    _agree(d, squared, min(k, dim) if kind in ("euclidean", "cosine-squared") else k)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_euclidean_gaussian_points_that_used_to_fail(seed):
    """300 Gaussian points in 20-D: seeds 1 and 2 raised ArpackNoConvergence."""
    x = np.random.default_rng(seed).normal(size=(300, 20))
    _agree(cdist(x, x), False, 2)
    fast = ClassicalMDS(2, solver="lanczos").fit(cdist(x, x))
    assert fast.diagnostics_.n_negative == 0 and "Euclidean" in fast.diagnostics_.message


def test_spiral_in_50_dimensions():
    _agree(_spiral(), False, 2)


@settings(deadline=None, max_examples=6)
@given(n=st.sampled_from([40, 90, 160]), dim=st.integers(50, 300),
       seed=st.integers(0, 2**31 - 1))
def test_positive_semidefinite_b_is_settled_by_cholesky(n, dim, seed):
    """2(1 − cos) of many near-parallel vectors (a trajectory: B positive semidefinite with a
    continuum of tiny eigenvalues, where the Lanczos probe of the negative end does not
    converge): one Cholesky of B + tol·λ_max·I shows there is no negative eigenvalue, with no
    dense fallback, and the report equals the dense route's."""
    rng = np.random.default_rng(seed)
    x = 1.0 + 0.01 * np.cumsum(rng.normal(size=(n, dim)), axis=0)  # a random walk
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = np.clip(2.0 - 2.0 * (u @ u.T), 0.0, None)
    np.fill_diagonal(d, 0.0)
    d = 0.5 * (d + d.T)
    fast = ClassicalMDS(2, squared=True, solver="lanczos").fit(d)
    dense = ClassicalMDS(2, squared=True).fit(d)
    msg = fast.diagnostics_.message
    assert "Cholesky" in msg and "dense fallback" not in msg, msg
    assert fast.diagnostics_.n_negative == dense.diagnostics_.n_negative == 0
    assert fast.diagnostics_.negative_mass == 0.0
    np.testing.assert_allclose(fast.eigenvalues_[:2], dense.eigenvalues_[:2],
                               rtol=0, atol=1e-9 * dense.eigenvalues_[0])


def test_a_negative_eigenvalue_fails_the_cholesky_test():
    """A B with one clearly negative eigenvalue is not certified: the probe reports it."""
    from lstheory.mds._classical import _definite

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(60, 60)))
    w = np.linspace(1.0, 0.0, 60)
    w[-1] = -1e-6  # −1e-6·λ_max, far below the default −1e-10·λ_max
    b = (q * w) @ q.T
    assert not _definite(b, 1e-10)
    assert _definite(b, 2e-6)
