"""Issue 17: the bfloat16 Gram route meets its stated worst-case bound on every entry, and the
faster MDS step (one-pass centring, two-ended Lanczos, strain without temporaries) equals the
textbook formulas."""

import json

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lstheory import InvalidArgument
from lstheory.mds import ClassicalMDS, TrajectoryStore, dissimilarity, gram_matrix
from lstheory.mds._classical import _strain_of_fit, double_center, strain
from lstheory.mds._dissimilarity import dissimilarity_from_gram, exactly_symmetric


def _trajectories(n: int, p: int, runs: int, spread: float, offset: float, seed: int):
    """``runs`` random walks in ``R^p`` (float32), ``n`` checkpoints in all, around a common
    point at distance ``offset`` (the regime of training runs: ‖z‖ ≪ ‖x‖ when spread is small)."""
    rng = np.random.default_rng(seed)
    base = offset * rng.normal(size=p)
    x = np.empty((n, p))
    for r, rows in enumerate(np.array_split(np.arange(n), runs)):
        start = base + spread * rng.normal(size=p) * (r + 1)
        x[rows] = start + np.cumsum(0.1 * spread * rng.normal(size=(rows.size, p)), axis=0)
    return x.astype(np.float32)


@settings(deadline=None, max_examples=30)
@given(
    n=st.integers(3, 70),
    p=st.integers(4, 2500),
    runs=st.integers(1, 4),
    spread=st.sampled_from([1e-3, 0.05, 1.0, 30.0]),
    offset=st.sampled_from([0.0, 1.0, 100.0]),
    width=st.sampled_from([None, 7, 64, 1000]),
    seed=st.integers(0, 2**31 - 1),
)
def test_bf16_gram_meets_its_bound_entry_by_entry(n, p, runs, spread, offset, width, seed):
    x = _trajectories(n, p, runs, spread, offset, seed)
    x64 = x.astype(np.float64)
    exact = x64 @ x64.T  # the stored values' own Gram, itself rounded in float64:
    norms = np.linalg.norm(x64, axis=1)
    ref_error = p * 2.0**-53 * np.outer(norms, norms)
    g, err = gram_matrix(x, precision="bfloat16", block_size=width, return_error=True)
    assert exactly_symmetric(g)
    assert (np.abs(g - exact) <= err.gram_bound() + ref_error).all()
    d = dissimilarity_from_gram(g, "cosine")
    d_exact = dissimilarity_from_gram(exact, "cosine")
    # the cosine bound is first order in the Gram's error: allow its second-order part
    bound = err.cosine_bound()
    assert (np.abs(d - d_exact) <= bound * (1 + bound) + 4 * p * 2.0**-53).all()


def test_the_bound_is_small_for_a_trajectory_and_the_store_route_uses_it(tmp_path):
    """Checkpoints of two runs in 3,000 parameters (‖z‖ ≪ ‖x‖): the bound on 1 − cos is far
    below bfloat16's 2⁻⁸, the measured error below the bound; a store gives the same Gram as
    its matrix, and ``dissimilarity`` reports the largest bound."""
    x = _trajectories(40, 3000, 2, 0.01, 1.0, 0)
    store = TrajectoryStore.create(tmp_path / "s", {"a": (1000,), "b": (40, 50)})
    for i, row in enumerate(x):
        store.append({"a": row[:1000], "b": row[1000:].reshape(40, 50)}, run=i // 20, epoch=i)
    g, err = gram_matrix(store, precision="bfloat16", return_error=True)
    np.testing.assert_array_equal(g, gram_matrix(x, precision="bfloat16"))
    bound = err.cosine_bound()
    assert bound.max() < 2.0**-8 / 10
    d = dissimilarity(store, "cosine", precision="bfloat16")
    d64 = dissimilarity(store, "cosine", dtype=torch.float64)
    assert d.error_bound == pytest.approx(bound.max())
    assert d64.error_bound is None
    assert np.abs(d.values - d64.values).max() <= d.error_bound
    # rows and layers select as in the full route
    sub = gram_matrix(store, precision="bfloat16", indices=[3, 1, 7], layers="b")
    full = gram_matrix(store, dtype=torch.float64, indices=[3, 1, 7], layers="b")
    assert np.abs(sub - full).max() <= 2.0**-8 * np.abs(full).max()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"precision": "fp8"}, "precision"),
        ({"precision": "bfloat16", "dtype": torch.float32}, "dtype"),
    ],
)
def test_gram_precision_invalid_arguments(kwargs, name):
    with pytest.raises(InvalidArgument) as e:
        gram_matrix(np.ones((3, 4), np.float32), **kwargs)
    assert e.value.name == name


def test_bf16_is_for_cosine_only():
    x = np.random.default_rng(0).normal(size=(5, 8))
    for metric in ("euclidean", "angular"):
        with pytest.raises(InvalidArgument) as e:
            dissimilarity(x, metric, precision="bfloat16")
        assert e.value.name == "precision"


def test_cli_embed_precision(cli, tmp_path):
    store = TrajectoryStore.create(tmp_path / "s", {"w": (6, 50)})
    for i, row in enumerate(_trajectories(12, 300, 2, 0.05, 1.0, 1)):
        store.append({"w": row.reshape(6, 50)}, run=i // 6, epoch=i % 6)
    out_json = tmp_path / "e.json"
    code, out, _ = cli("mds", "embed", store.path, "--precision", "bfloat16", "--json", out_json)
    d = json.loads(out_json.read_text())
    assert code == 0 and d["precision"] == "bfloat16" and 0 < d["error_bound"] < 2.0**-8
    assert f"|Δ(1 − cos)| ≤ {d['error_bound']:.3g}" in out
    code, out, _ = cli("mds", "embed", store.path, "--json", out_json)
    d = json.loads(out_json.read_text())
    # the float32 store's float32 Gram route states its own, smaller bound
    assert code == 0 and d["precision"] == "full" and 0 < d["error_bound"] < 2.0**-20
    for bad, flag in ((["--precision", "fp8"], "--precision"),
                      (["--precision", "bfloat16", "--metric", "euclidean"], "--metric")):
        code, out, err = cli("mds", "embed", store.path, *bad)
        assert code == 2 and flag in err and len(err.strip().splitlines()) <= 2


# ------------------------------------------------------------------- the MDS step's pieces
@settings(deadline=None, max_examples=40)
@given(n=st.integers(1, 300), i=st.integers(0, 299), j=st.integers(0, 299),
       seed=st.integers(0, 2**31 - 1))
def test_tiled_symmetry_check_equals_array_equal(n, i, j, seed):
    a = np.random.default_rng(seed).normal(size=(n, n))
    a = a + a.T
    assert exactly_symmetric(a)
    a[i % n, j % n] += 1e-300 if a[i % n, j % n] == 0 else abs(a[i % n, j % n]) * 1e-15
    assert exactly_symmetric(a) == np.array_equal(a, a.T)


@settings(deadline=None, max_examples=25)
@given(n=st.integers(3, 200), dim=st.integers(1, 30), squared=st.booleans(),
       noise=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2**31 - 1))
def test_one_pass_centring_and_strain_equal_the_formulas(n, dim, squared, noise, seed):
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    d = cdist(x, x) + noise * np.abs(np.triu(rng.normal(size=(n, n)), 1))
    d = np.maximum(d, d.T)
    a = d if squared else d**2
    j = np.eye(n) - 1.0 / n
    b = double_center(a)
    np.testing.assert_allclose(b, -0.5 * j @ a @ j, rtol=0, atol=1e-12 * np.abs(a).max())
    b_fit = -0.5 * j @ a @ j
    # as many components as B has positive eigenvalues (noise can leave fewer than 2 at
    # small n: n = 3, dim = 1 has one; asking for more is a documented error, tested elsewhere)
    w = np.linalg.eigvalsh(b_fit)
    k = min(2, n - 1, int((w > 1e-9 * max(1.0, np.abs(w).max())).sum()))
    assume(k >= 1)
    m = ClassicalMDS(k, squared=squared, solver="lanczos").fit(d)
    assert m.strain_ == pytest.approx(strain(b_fit, m.embedding_, gram=True), abs=1e-9)
    assert _strain_of_fit(b_fit, m.embedding_) == pytest.approx(
        strain(b_fit, m.embedding_, gram=True), abs=1e-9)


@pytest.mark.parametrize("n", [60, 250, 600])
def test_two_ended_lanczos_serves_non_euclidean_input_without_arpack(n, monkeypatch):
    """1 − cos taken as a distance (the paper's recipe): one Lanczos run gives the top pairs
    and the negative probe; ARPACK (the fallback) is not called; the report equals the dense
    route's."""
    import lstheory.mds._eigen as E

    def no_arpack(*a, **k):
        raise AssertionError("fell back to ARPACK")

    monkeypatch.setattr(E, "_arpack", no_arpack)
    x = _trajectories(n, 400, 4, 0.3, 1.0, n).astype(np.float64)
    d = dissimilarity(x, "cosine").values
    fast = ClassicalMDS(2, solver="lanczos").fit(d)
    dense = ClassicalMDS(2).fit(d)
    lam = dense.eigenvalues_[0]
    np.testing.assert_allclose(fast.eigenvalues_[:2], dense.eigenvalues_[:2], rtol=0,
                               atol=1e-9 * lam)
    neg = np.sort(fast.eigenvalues_[2:])
    np.testing.assert_allclose(neg, dense.eigenvalues_[::-1][: neg.size], rtol=0,
                               atol=1e-9 * lam)
    assert fast.diagnostics_.n_negative == min(5, dense.diagnostics_.n_negative) > 0
    assert "Lanczos steps" in fast.diagnostics_.message


@settings(deadline=None, max_examples=20)
@given(n=st.integers(2, 80), shift=st.floats(1e-12, 10.0), seed=st.integers(0, 2**31 - 1))
def test_the_cholesky_test_leaves_b_as_it_was(n, shift, seed):
    """``_definite`` shifts B's own diagonal and restores it bit for bit, and decides as the
    eigenvalues do (away from the threshold)."""
    from lstheory.mds._eigen import _definite

    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    b = (a + a.T) / 2
    before = b.copy()
    lam_min = np.linalg.eigvalsh(b)[0]
    decided = _definite(b, shift)
    np.testing.assert_array_equal(b, before)
    if abs(lam_min + shift) > 1e-8 * max(1.0, np.abs(b).max()):
        assert decided == (lam_min + shift > 0)
