"""Trajectory store, dissimilarities, classical MDS, Gower insertion, Procrustes, SMACOF."""

import json

import numpy as np
import pytest
import scipy.spatial
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from lstheory import InvalidArgument
from lstheory.mds import (
    SMACOF,
    ClassicalMDS,
    TrajectoryStore,
    cross_gram,
    dissimilarity,
    dissimilarity_from_gram,
    gram_matrix,
    procrustes_align,
    strain,
    stress,
)

LAYERS = {"a.weight": (3, 4), "a.bias": (3,), "b.weight": (2, 3)}


def _rows(n, seed=0):
    rng = np.random.default_rng(seed)
    return [{k: rng.normal(size=s) for k, s in LAYERS.items()} for _ in range(n)]


@pytest.fixture
def store(tmp_path):
    s = TrajectoryStore.create(tmp_path / "t", LAYERS, dtype="float64", attrs={"seed": 3})
    for i, w in enumerate(_rows(7)):
        s.append(w, run="main" if i < 4 else "branch", epoch=i, err=0.1 * i)
    return s


# ------------------------------------------------------------------------------------- store
def test_store_round_trip_and_layers(store, tmp_path):
    rows = _rows(7)
    again = TrajectoryStore.open(tmp_path / "t")
    assert len(again) == 7 and again.n_parameters == 12 + 3 + 6 and again.attrs == {"seed": 3}
    for name in LAYERS:
        want = np.stack([r[name].reshape(-1) for r in rows])
        np.testing.assert_array_equal(again.layer(name), want)
    np.testing.assert_array_equal(again.weights(5)["b.weight"], rows[5]["b.weight"])
    assert list(again.select(run="branch")) == [4, 5, 6]
    assert list(again.select(err=0.2)) == [2]
    assert again.records[3].info["err"] == pytest.approx(0.3)


def test_store_recovers_from_a_crash_mid_write(store, tmp_path):
    data = tmp_path / "t" / "weights.bin"
    with open(data, "ab") as f:  # a partial row written, manifest not updated
        f.write(b"\x7f" * 37)
    s = TrajectoryStore.open(tmp_path / "t")
    assert len(s) == 7 and s.matrix().shape == (7, 21)
    new = _rows(1, seed=9)[0]
    assert s.append(new, run="x", epoch=0) == 7
    assert data.stat().st_size == 8 * 21 * 8  # the partial row was dropped
    np.testing.assert_array_equal(
        TrajectoryStore.open(tmp_path / "t").weights(7)["a.bias"], new["a.bias"]
    )
    assert not list((tmp_path / "t").glob(".manifest.*"))  # no temporary files left


def test_store_from_module_and_recorder(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    s = TrajectoryStore.create(tmp_path / "m", net)
    assert s.layer_names == ("0.weight", "0.bias", "1.weight", "1.bias")
    s.recorder(run="r")(0, net)
    np.testing.assert_allclose(s.layer("0.weight")[0], net[0].weight.detach().numpy().ravel())


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda s: s.append({"a.weight": np.ones((3, 4))}), "weights"),
        (lambda s: s.append({**_rows(1)[0], "a.bias": np.ones(4)}), "weights['a.bias']"),
        (lambda s: s.append({**_rows(1)[0], "a.bias": np.array([1, np.nan, 0])}), "weights"),
        (lambda s: s.append(_rows(1)[0], epoch=1.5), "epoch"),
        (lambda s: s.append(_rows(1)[0], note=object()), "info['note']"),
        (lambda s: s.layer("nope"), "layer"),
        (lambda s: s.weights(99), "index"),
    ],
)
def test_store_invalid_arguments(store, call, name):
    with pytest.raises(InvalidArgument) as e:
        call(store)
    assert e.value.name == name
    assert len(TrajectoryStore.open(store.path)) == 7  # nothing half-written


def test_store_create_refuses_to_overwrite_and_bad_dtype(store, tmp_path):
    with pytest.raises(InvalidArgument, match="overwrite=True"):
        TrajectoryStore.create(tmp_path / "t", LAYERS)
    with pytest.raises(InvalidArgument, match="dtype"):
        TrajectoryStore.create(tmp_path / "u", LAYERS, dtype="int8")
    with pytest.raises(InvalidArgument, match="manifest"):
        TrajectoryStore.open(tmp_path / "nowhere")
    assert json.loads((tmp_path / "t" / "manifest.json").read_text())["format"].startswith(
        "lstheory"
    )


# ----------------------------------------------------------------------------- dissimilarity
@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 13), p=st.integers(1, 9), block=st.integers(1, 6), seed=st.integers(0, 99))
def test_streaming_gram_equals_dense(n, p, block, seed):
    x = np.random.default_rng(seed).normal(size=(n, p))
    np.testing.assert_allclose(gram_matrix(x, block_size=block), x @ x.T, atol=1e-12)
    idx = np.arange(n)[::-2]
    np.testing.assert_allclose(
        cross_gram(x, x[:2], rows=idx, block_size=block), x[idx] @ x[:2].T, atol=1e-12
    )


def test_per_layer_and_all_layer_dissimilarities_match_scipy(store):
    for layers in ("a.bias", ["b.weight", "a.weight"], None):
        cols = store.columns(layers)
        x = np.concatenate([np.asarray(store.matrix()[:, c]) for c in cols], axis=1)
        for metric, ref in [("cosine", cdist(x, x, "cosine")), ("euclidean", cdist(x, x))]:
            d = dissimilarity(store, metric, layers=layers, block_size=3)
            np.testing.assert_allclose(d.values, ref, atol=1e-10)
        ang = dissimilarity(store, "angular", layers=layers).values
        np.testing.assert_allclose(np.cos(ang), 1 - cdist(x, x, "cosine"), atol=1e-10)


def test_cosine_is_half_a_squared_distance_of_unit_vectors(store):
    x = np.asarray(store.matrix())
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = dissimilarity(store, "cosine")
    np.testing.assert_allclose(d.squared_distances, cdist(u, u, "sqeuclidean"), atol=1e-10)


def test_dissimilarity_rejects_unknown_metric_and_zero_vectors():
    with pytest.raises(InvalidArgument, match="did you mean cosine"):
        dissimilarity(np.eye(3), "cosin")
    with pytest.raises(InvalidArgument, match="non-zero"):
        dissimilarity_from_gram(np.zeros((2, 2)), "cosine")


# ------------------------------------------------------------------------------ classical MDS
def _planar(n=12, seed=0):
    """n points on a random 2-plane of R^6 (classical MDS must recover them exactly)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2)) * [3.0, 1.0]
    q, _ = np.linalg.qr(rng.normal(size=(6, 2)))
    return z, z @ q.T + rng.normal(size=6)


def test_classical_mds_matches_pca_up_to_rotation():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 7)) * np.arange(7, 0, -1)
    emb = ClassicalMDS(2).fit(cdist(x, x)).embedding_
    xc = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)  # independent route: PCA scores
    pca = u[:, :2] * s[:2]
    assert procrustes_align(pca, emb, scaling=False).disparity < 1e-20
    sk = pytest.importorskip("sklearn.manifold")
    if hasattr(sk, "ClassicalMDS"):
        other = sk.ClassicalMDS(n_components=2, metric="precomputed").fit_transform(cdist(x, x))
        assert procrustes_align(other, emb, scaling=False).disparity < 1e-20


def test_classical_mds_recovers_an_exact_planar_configuration():
    z, x = _planar()
    m = ClassicalMDS(2).fit(cdist(x, x))
    assert procrustes_align(z, m.embedding_).disparity < 1e-20
    assert m.diagnostics_.n_negative == 0 and m.strain_ < 1e-10
    assert m.diagnostics_.explained == pytest.approx(1.0)
    from_gram = ClassicalMDS(2).fit_gram(x @ x.T)
    assert procrustes_align(m.embedding_, from_gram.embedding_, scaling=False).disparity < 1e-18


def test_cosine_as_distance_has_negative_eigenvalues_and_squared_does_not():
    x = np.random.default_rng(2).normal(size=(15, 30))
    d = dissimilarity(x, "cosine")
    paper = ClassicalMDS(2).fit(d)  # 1 − cos treated as a distance
    exact = ClassicalMDS(2, squared=True).fit(d.squared_distances)
    assert paper.diagnostics_.n_negative > 0 and "negative" in paper.diagnostics_.message
    assert exact.diagnostics_.n_negative == 0
    u = x / np.linalg.norm(x, axis=1, keepdims=True)  # = PCA of the normalised rows
    uc = u - u.mean(axis=0)
    w, s, _ = np.linalg.svd(uc, full_matrices=False)
    assert procrustes_align(w[:, :2] * s[:2], exact.embedding_, scaling=False).disparity < 1e-18


def test_gower_insertion_reproduces_fitted_points_and_places_new_ones():
    z, x = _planar(15, seed=3)
    fit, new = x[:11], x[11:]
    m = ClassicalMDS(2).fit(cdist(fit, fit))
    np.testing.assert_allclose(m.transform(cdist(fit, fit)), m.embedding_, atol=1e-9)
    inserted = m.transform(cdist(new, fit))
    al = procrustes_align(z[:11], m.embedding_, scaling=False)  # exact data: exact insertion
    np.testing.assert_allclose(inserted @ al.rotation + al.translation, z[11:], atol=1e-8)
    x2 = np.random.default_rng(4).normal(size=(9, 5))  # non-exact: fitted still exact
    m2 = ClassicalMDS(2, squared=True).fit(dissimilarity(x2, "cosine").squared_distances)
    np.testing.assert_allclose(
        m2.transform(dissimilarity(x2, "cosine").squared_distances), m2.embedding_, atol=1e-9
    )


@pytest.mark.parametrize(
    "kwargs, d, name",
    [
        ({"n_components": 0}, np.ones((3, 3)) - np.eye(3), "n_components"),
        ({"n_components": 3}, np.ones((3, 3)) - np.eye(3), "n_components"),
        ({}, np.ones((3, 2)), "dissimilarities"),
        ({}, np.array([[0, 1.0], [2.0, 0]]), "dissimilarities"),
        ({}, np.array([[0, np.inf], [np.inf, 0]]), "dissimilarities"),
    ],
)
def test_classical_mds_invalid_arguments(kwargs, d, name):
    with pytest.raises(InvalidArgument) as e:
        ClassicalMDS(**kwargs).fit(d)
    assert e.value.name == name


# --------------------------------------------------------------------------------- Procrustes
def test_procrustes_undoes_a_similarity_and_matches_scipy():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(10, 2))
    th = 0.7
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    b = 2.5 * a @ rot + [1.0, -3.0]
    r = procrustes_align(a, b)
    np.testing.assert_allclose(r.aligned, a, atol=1e-12)
    assert r.disparity < 1e-24 and r.scale == pytest.approx(0.4)
    c = b + rng.normal(size=b.shape) * 0.3
    assert procrustes_align(a, c).disparity == pytest.approx(scipy.spatial.procrustes(a, c)[2])
    mirrored = procrustes_align(a, a * [1, -1], reflection=False)
    assert np.linalg.det(mirrored.rotation) > 0 and mirrored.disparity > 0.01


# ------------------------------------------------------------------------------------- SMACOF
def test_smacof_warm_start_never_increases_stress():
    x = np.random.default_rng(6).normal(size=(25, 10))
    d = cdist(x, x)
    s = SMACOF(2, max_iter=200).fit(d)
    assert s.stress_ <= stress(d, s.init_) + 1e-12
    assert s.n_iter_ >= 1 and s.embedding_.shape == (25, 2)
    again = SMACOF(2, max_iter=200).fit(d)
    np.testing.assert_array_equal(again.embedding_, s.embedding_)  # deterministic
    assert strain(d, s.classical_.embedding_) <= strain(d, s.embedding_) + 1e-12


def test_lanczos_solver_matches_dense():
    x = np.random.default_rng(7).normal(size=(60, 40))
    d = dissimilarity(x, "cosine")
    dense, fast = ClassicalMDS(2).fit(d), ClassicalMDS(2, solver="lanczos").fit(d)
    assert procrustes_align(dense.embedding_, fast.embedding_, scaling=False).disparity < 1e-16
    np.testing.assert_allclose(fast.eigenvalues_[:2], dense.eigenvalues_[:2], rtol=1e-10)
    assert fast.diagnostics_.most_negative == pytest.approx(dense.diagnostics_.most_negative)
    assert fast.diagnostics_.n_negative >= 1 and np.isnan(fast.diagnostics_.negative_mass)
    with pytest.raises(InvalidArgument, match="solver"):
        ClassicalMDS(2, solver="magic").fit(d)


# ----------------------------------------------------------------- float32 blocks of the Gram
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 30),
    p=st.integers(1, 200),
    block=st.integers(1, 80),
    offset=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_float32_blocks_meet_their_error_bound(n, p, block, offset, seed):
    """The float32 route's error is bounded by the deviations from the block centres, not by
    the size of the weights: |ΔG_ij| ≤ (w + 2)·2⁻²⁴·Σ_b ‖z_bi‖‖z_bj‖ (+ float64 rounding)."""
    rng = np.random.default_rng(seed)
    x = (offset * rng.normal(size=p) + rng.normal(size=(n, p))).astype(np.float32)
    x64 = x.astype(np.float64)
    ref = x64 @ x64.T
    before = x.copy()
    g = gram_matrix(x, block_size=block, threads=1)  # float32 input: the float32 route
    np.testing.assert_array_equal(x, before)  # the input is never centred in place
    bound = np.zeros((n, n))
    for s in range(0, p, block):  # the route's centre: the mean of every 16th row, in float32
        centre = x64[::16, s : s + block].mean(axis=0).astype(np.float32).astype(np.float64)
        z = x64[:, s : s + block] - centre
        nz = np.linalg.norm(z, axis=1)
        bound += np.outer(nz, nz)
    w = min(block, p)
    bound = (w + 2) * 2.0**-24 * bound * 1.01 + 1e-12 * np.abs(x64).max() ** 2 * p
    assert (np.abs(g - ref) <= bound).all()
    # the route's own stated bound (Float32GramError) holds entry by entry, and so does its
    # bound on 1 − cos (first order: a hair of slack for the second-order terms)
    g2, err = gram_matrix(x, block_size=block, threads=1, return_error=True)
    np.testing.assert_array_equal(g2, g)
    assert err.width == w and (np.abs(g - ref) <= err.gram_bound()).all()
    if (np.diag(ref) > 0).all() and n > 1:
        d = dissimilarity_from_gram(g, "cosine")
        d_ref = dissimilarity_from_gram(ref, "cosine")
        assert (np.abs(d - d_ref) <= err.cosine_bound() * (1 + 1e-6) + 1e-15).all()
    np.testing.assert_array_equal(g, g.T)
    exact = gram_matrix(x, block_size=block, dtype=torch.float64, threads=1)
    np.testing.assert_allclose(exact, ref, rtol=1e-12, atol=1e-9)


def test_float32_route_keeps_one_minus_cos_of_close_checkpoints(tmp_path):
    """Checkpoints along one trajectory (cos ≈ 1): a plain float32 product loses 1 − cos; the
    centred float32 blocks keep it to a small relative error."""
    rng = np.random.default_rng(0)
    theta = rng.normal(size=5000)
    x = (theta + np.cumsum(1e-3 * rng.normal(size=(30, 5000)), axis=0)).astype(np.float32)
    s = TrajectoryStore.create(tmp_path / "f32", {"w": (5000,)})  # float32 by default
    for row in x:
        s.append({"w": row})
    x64 = x.astype(np.float64)
    ref = dissimilarity_from_gram(x64 @ x64.T, "cosine")
    off = ~np.eye(30, dtype=bool)
    ours = dissimilarity(s, "cosine", threads=1).values
    plain = dissimilarity_from_gram((torch.from_numpy(x) @ torch.from_numpy(x).T).double().numpy())
    assert np.max(np.abs(ours - ref)[off] / ref[off]) < 1e-3
    assert np.max(np.abs(plain - ref)[off] / ref[off]) > 1e-2  # the fault the centring avoids
    with pytest.raises(InvalidArgument, match="dtype"):
        gram_matrix(x, dtype=torch.float16)


@pytest.mark.parametrize("mixed", [True, False])
def test_the_device_route_equals_the_blas_route(mixed):
    """The torch route that a GPU runs (``_gram_torch``), run here on the CPU, gives the BLAS
    route's Gram, float32 blocks or float64."""
    from lstheory.mds._dissimilarity import _gram_cpu, _gram_torch

    x = (3.0 + np.random.default_rng(4).normal(size=(23, 170))).astype(np.float32)
    cols, idx = [slice(0, 100), slice(120, 170)], np.array([5, 0, 22, 7, 7, 13])
    ea, eb = [], []
    a = _gram_torch(x, cols, idx, 16, mixed, "cpu", ea)
    b = _gram_cpu(x, cols, idx, 16, mixed, eb)
    sel = np.concatenate([x[idx][:, c] for c in cols], axis=1).astype(np.float64)
    np.testing.assert_allclose(a, b, rtol=1e-6 if mixed else 1e-12)
    np.testing.assert_allclose(a, sel @ sel.T, rtol=1e-6 if mixed else 1e-12)
    assert len(ea) == len(eb) == int(mixed)  # the float64 route states no bound
    for e, g in zip(ea + eb, (a, b)):
        assert (e.width, e.blocks) == (16, 11)  # 100 + 50 columns: 7 + 4 blocks of ≤ 16
        assert (np.abs(g - sel @ sel.T) <= e.gram_bound()).all()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(4, 40), dim=st.integers(1, 6), seed=st.integers(0, 2**31 - 1),
       level=st.floats(-12, -3))
def test_entry_error_keeps_rounding_from_being_called_non_euclidean(n, dim, seed, level):
    """Exact squared distances of points in R^dim, each entry moved by at most ε: with
    ``entry_error=ε`` no eigenvalue counts as negative (Weyl: ‖ΔB‖₂ ≤ ½nε), and the
    resolution reported is ½nε. A truly non-Euclidean input (one distance stretched far past
    the triangle inequality) still has its negative eigenvalue found at that ε."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, dim))
    a = scipy.spatial.distance.squareform(scipy.spatial.distance.pdist(y, "sqeuclidean"))
    eps = 10.0**level * a.max()
    noise = rng.uniform(-eps, eps, size=(n, n))
    noise = np.triu(noise, 1) + np.triu(noise, 1).T
    fit = ClassicalMDS(1, squared=True, entry_error=eps).fit(a + noise)
    assert fit.diagnostics_.n_negative == 0 and fit.resolution_ == pytest.approx(0.5 * n * eps)
    assert "Euclidean" in fit.diagnostics_.message
    bad = a.copy()
    bad[0, 1] = bad[1, 0] = 4 * a.max() + n * eps  # B gains an eigenvalue ≤ −(that)/4 − …
    off = ClassicalMDS(1, squared=True, entry_error=eps).fit(bad)
    if off.diagnostics_.most_negative < -off.resolution_:  # resolved: it must be counted
        assert off.diagnostics_.n_negative >= 1 and "not a Euclidean" in off.diagnostics_.message
    with pytest.raises(InvalidArgument, match="entry_error"):
        ClassicalMDS(1, squared=True, entry_error=-1.0).fit(a)


def test_float32_store_is_euclidean_within_its_stated_rounding(tmp_path):
    """A float32 store's cosine embedding (2(1 − cos), exactly Euclidean): the float32 Gram's
    rounding makes tiny negative eigenvalues; embed_store reports them as unresolved against
    the route's stated bound, not as 'not a Euclidean distance'; exact float64 input: none."""
    from lstheory.mds._job import embed_store

    rng = np.random.default_rng(1)  # this walk's float32 Gram gives B eigenvalues ≈ −3e-8
    w = rng.normal(size=(6, 5))
    s = TrajectoryStore.create(tmp_path / "walk", {"w": (6, 5)})
    for epoch in range(40):
        w = w + 0.3 * rng.normal(size=w.shape)
        s.append({"w": w}, run="r", epoch=epoch)
    for solver in ("dense", "lanczos"):
        emb = embed_store(s, solver=solver)
        d = emb.mds.diagnostics_
        assert emb.error_bound > 0 and emb.mds.resolution_ > 0
        assert d.most_negative < -1e-10 * d.eigenvalues[0]  # below the bare tolerance
        assert d.n_negative == 0 and "Euclidean within it" in d.message, d.message
        assert emb.to_dict()["resolution"] == emb.mds.resolution_
    d64 = dissimilarity(s, "cosine", dtype=torch.float64)
    assert d64.error_bound is None and d64.squared_error is None
    paper = embed_store(s, squared=False)  # 1 − cos as a distance: truly not Euclidean
    assert paper.mds.diagnostics_.n_negative > 0


def test_checkpoint_record_to_dict_is_the_dict_and_to_json_its_text(tmp_path):
    """_vocab's meaning: to_dict() a JSON-ready dict, to_json(path=None) that dict as text
    (written atomically given a path); the manifest holds the same dicts."""
    import json

    from lstheory.mds import TrajectoryStore

    store = TrajectoryStore.create(tmp_path / "s", {"w": (2,)})
    store.append({"w": np.ones(2)}, run="a", epoch=3, acc=0.5)
    rec = store.records[0]
    d = rec.to_dict()
    assert d == {"index": 0, "run": "a", "epoch": 3, "info": {"acc": 0.5}}
    assert json.loads(rec.to_json()) == d
    assert rec.to_json(tmp_path / "r.json") == (tmp_path / "r.json").read_text()
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["records"] == [d]
