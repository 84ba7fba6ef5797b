"""The matrix-free route of classical MDS (``KrylovMDS``, ``embed_store(route=...)``): the same
embedding as the Gram route, and a certificate that never claims more than is true."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstheory._errors import InvalidArgument
from lstheory.mds import ClassicalMDS, KrylovMDS, TrajectoryStore, procrustes_align

pytestmark = pytest.mark.usefixtures("module_one_thread")


def _exact_b(x32: np.ndarray, metric: str) -> np.ndarray:
    """``B = J Û Ûᵀ J`` in float64 from the stored (float32) values."""
    u = x32.astype(np.float64)
    if metric == "cosine":
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
    u = u - u.mean(axis=0)
    return u @ u.T


def _sin_angle(v: np.ndarray, u: np.ndarray) -> float:
    """``‖(I − UUᵀ)V‖₂`` for orthonormal columns: the sine of the largest principal angle."""
    return float(np.linalg.norm(v - u @ (u.T @ v), 2))


def _check_certificate(fit: KrylovMDS, b: np.ndarray, k: int) -> None:
    """What the certificate states holds against the dense spectrum of the exact ``B``."""
    c = fit.certificate_
    lam, vec = np.linalg.eigh(b)
    lam, vec = lam[::-1], vec[:, ::-1]
    scale = lam[0]
    assert abs(c.trace - np.trace(b)) <= c.trace_error + 1e-12 * scale
    assert lam[k] <= c.trace_bound + 1e-12 * scale
    assert lam[k] <= c.next_bound + 1e-12 * scale  # the bound on λ_{k+1} is a bound
    assert (lam[:k] >= c.eigenvalues - c.rounding - 1e-12 * scale).all()  # interlacing
    if c.resolved:
        assert lam[k - 1] > lam[k]  # a resolved gap is a real one
        v = fit.embedding_ / np.sqrt(c.eigenvalues)
        assert _sin_angle(v, vec[:, :k]) <= c.subspace_error + 1e-9
    else:
        assert c.subspace_error == np.inf and "NOT" in c.message


@st.composite
def _gapped(draw):
    """Rows with a planted low-rank structure whose second and third components are apart
    (ratio of singular values 1.5–4), plus noise; cosine rows share a large offset."""
    metric = draw(st.sampled_from(["cosine", "euclidean"]))
    n, p = draw(st.integers(12, 60)), draw(st.integers(8, 120))
    r = draw(st.integers(3, min(6, n - 3, p)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    s = np.array([draw(st.floats(1.0, 3.0)), 1.0, 1.0 / draw(st.floats(1.5, 4.0))])
    s = np.concatenate([s, s[-1] * 0.5 ** np.arange(1, r - 2)])
    x = (rng.normal(size=(n, r)) * s) @ np.linalg.qr(rng.normal(size=(p, r)))[0].T
    x += 1e-3 * rng.normal(size=(n, p))
    if metric == "cosine":
        x += 2.0 * rng.normal(size=p) / np.sqrt(p)
    return metric, x.astype(np.float32)


@settings(deadline=None, max_examples=30)
@given(_gapped())
def test_same_embedding_as_the_gram_route(case):
    metric, x = case
    fit = KrylovMDS(2, metric=metric).fit(x)
    b = _exact_b(x, metric)
    ref = ClassicalMDS(2, squared=True).fit(_squared_distances(b))
    lam = ref.eigenvalues_
    _check_certificate(fit, b, 2)
    assert fit.certificate_.converged
    if (lam[1] - lam[2]) > 0.05 * lam[0] and (lam[0] - lam[1]) > 0.05 * lam[0]:
        assert fit.certificate_.resolved, fit.certificate_.message
        pr = procrustes_align(ref.embedding_, fit.embedding_, scaling=False)
        assert pr.disparity < 1e-8
        np.testing.assert_allclose(fit.eigenvalues_[:2], lam[:2], rtol=1e-5)


def _squared_distances(b: np.ndarray) -> np.ndarray:
    d = np.diag(b)
    return np.clip(d[:, None] + d[None, :] - 2 * b, 0, None)


@st.composite
def _planted(draw):
    """Euclidean rows ``U S Vᵀ + 1cᵀ`` (``U`` centred and orthonormal): ``B = U S² Uᵀ`` with a
    planted top whose values repeat, so that ``λ_k = λ_{k+1}`` happens, over a tail of small
    eigenvalues (none, or up to the full rank); small blocks and few passes leave the Ritz
    pairs unconverged, where only the certificate's bounds stand between a guess and a
    claim."""
    n, p = draw(st.integers(20, 90)), draw(st.integers(10, 90))
    top = draw(st.integers(2, 6))
    k = draw(st.integers(1, top - 1))
    tail = draw(st.integers(0, min(n - 1, p) - top))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    s = np.sort(np.array(draw(st.lists(st.sampled_from([3.0, 2.0, 2.0, 1.0, 1.0 + 1e-7, 0.3]),
                                       min_size=top, max_size=top))))[::-1]
    s = np.sort(np.concatenate([s, draw(st.floats(0.01, 0.5)) * rng.uniform(size=tail)]))[::-1]
    r = s.size
    u = rng.normal(size=(n, r))
    u = np.linalg.qr(u - u.mean(axis=0))[0]
    v = np.linalg.qr(rng.normal(size=(p, r)))[0]
    opts = {"block": draw(st.integers(k + 1, 16)), "max_passes": draw(st.integers(2, 6))}
    dtype = draw(st.sampled_from([np.float32, np.float64]))  # float64: rounded as it is read
    offset = draw(st.sampled_from([0.0, 30.0, 3e3])) * rng.normal(size=p) / np.sqrt(p)  # J drops it
    return k, s, ((u * s) @ v.T + offset).astype(dtype), opts


@settings(deadline=None, max_examples=60)
@given(_planted())
def test_the_certificate_holds_and_a_planted_tie_is_never_resolved(case):
    k, s, x, opts = case
    fit = KrylovMDS(k, metric="euclidean", **opts).fit(x)
    _check_certificate(fit, _exact_b(x, "euclidean"), k)
    if s[k - 1] == s[k]:  # a planted tie (in the stored values, split by rounding at most)
        assert not fit.certificate_.resolved, fit.certificate_.message


class _Exact:
    """The operator of an exact ``B`` for ``KrylovMDS._certify``: its trace, no rounding."""

    def __init__(self, b):
        self.zz, self.trace_sum, self.count = np.diag(b).copy(), 0.0, 1

    def rounding(self, m):
        return 0.0

    def trace_error(self):
        return 0.0


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(8, 40), st.data())
def test_the_bounds_hold_for_any_basis(seed, n, data):
    """The certificate's arithmetic for any orthonormal basis with exact products, not only a
    Krylov one: a basis of some eigenvectors (possibly missing the largest, which only
    ``tr B`` then reveals), rotated, plus random directions."""
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.choice([4.0, 2.0, 1.0, 0.5, 0.1, 0.0], size=n - 1))[::-1]
    u = rng.normal(size=(n, n - 1))
    u = np.linalg.qr(u - u.mean(axis=0))[0]
    b = (u * lam) @ u.T
    k = data.draw(st.integers(1, 3))
    chosen = data.draw(st.lists(st.integers(0, n - 2), min_size=k + 1, max_size=n - 2,
                                unique=True))
    q = u[:, chosen] @ np.linalg.qr(rng.normal(size=(len(chosen),) * 2))[0]
    extra = data.draw(st.integers(0, min(3, n - 1 - len(chosen))))  # room left ⊥ 1 and q
    if extra:
        r = rng.normal(size=(n, extra))
        r = r - r.mean(axis=0) - q @ (q.T @ r)
        q = np.concatenate([q, np.linalg.qr(r)[0]], axis=1)
    fit = KrylovMDS(k, metric="euclidean")
    cert, _, v = fit._certify(_Exact(b), q, b @ q, k)
    assert lam[k] <= cert.next_bound + 1e-9 and lam[k] <= cert.trace_bound + 1e-9
    assert (lam[:k] >= cert.eigenvalues - 1e-9).all()
    if cert.resolved:
        assert lam[k - 1] > lam[k] + 1e-12
        assert _sin_angle(v[:, :k], u[:, :k]) <= cert.subspace_error + 1e-9


def test_a_store_and_its_layers(tmp_path):
    """A store reads the named layers' columns; the result is the array's (up to rounding)
    and ``embed_store``'s matrix-free route agrees with its Gram route."""
    from lstheory.mds import embed_store

    store = TrajectoryStore.create(tmp_path / "walk", {"w": (6, 30), "b": (7,)})
    rng = np.random.default_rng(3)
    w, drift = rng.normal(size=(6, 30)), rng.normal(size=(6, 30))
    for epoch in range(40):
        w = w + 0.1 * drift + 0.05 * rng.normal(size=w.shape)
        store.append({"w": w, "b": rng.normal(size=7)}, run="main", epoch=epoch)
    fit = KrylovMDS(2).fit(store, layers="w")
    arr = KrylovMDS(2).fit(np.asarray(store.layer("w")))
    assert procrustes_align(arr.embedding_, fit.embedding_).disparity < 1e-10
    mf = embed_store(store, layers=["w"], route="matrix-free")
    gram = embed_store(store, layers=["w"], route="gram")
    assert (mf.route, mf.solver, gram.route) == ("matrix-free", "block-krylov", "gram")
    assert mf.mds.certificate_.resolved
    assert procrustes_align(gram.embedding, mf.embedding, scaling=False).disparity < 1e-8
    d = mf.to_dict()
    assert d["route"] == "matrix-free" and d["certificate"]["resolved"] is True
    json.dumps(d)


def test_auto_picks_the_route_where_it_applies(tmp_path, monkeypatch):
    from lstheory.mds import _job, embed_store

    store = TrajectoryStore.create(tmp_path / "s", {"w": (40,)})
    rng = np.random.default_rng(0)
    for epoch in range(12):
        store.append({"w": 1.0 + rng.normal(size=40)}, run="r", epoch=epoch)
    assert embed_store(store).route == "gram"  # 12 < MATRIX_FREE_FROM
    monkeypatch.setattr(_job, "MATRIX_FREE_FROM", 10)
    assert embed_store(store).route == "matrix-free"
    assert embed_store(store, metric="euclidean").route == "matrix-free"
    for kw in ({"squared": False}, {"metric": "angular"}, {"smacof": True},
               {"precision": "bfloat16"}, {"solver": "dense"}):
        assert embed_store(store, **kw).route == "gram", kw
        with pytest.raises(InvalidArgument, match="route=matrix-free"):
            embed_store(store, route="matrix-free", **kw)
    with pytest.raises(InvalidArgument, match="route=nope"):
        embed_store(store, route="nope")


def test_a_flat_spectrum_is_given_up_early_and_auto_falls_back(tmp_path, monkeypatch):
    """iid rows (no structure): the residuals fall too slowly to converge by ``max_passes``;
    the passes stop early and say so, and ``auto`` then embeds through the Gram route."""
    import functools

    from lstheory.mds import _job, embed_store

    x = np.random.default_rng(0).standard_normal((200, 2000)).astype(np.float32)
    fit = KrylovMDS(2).fit(x)
    c = fit.certificate_
    assert not c.converged and c.passes < fit.max_passes and "NOT converged" in c.message
    store = TrajectoryStore.create(tmp_path / "s", {"w": (40,)})
    rng = np.random.default_rng(0)
    for epoch in range(12):
        store.append({"w": 1.0 + rng.normal(size=40)}, run="r", epoch=epoch)
    monkeypatch.setattr(_job, "MATRIX_FREE_FROM", 10)
    monkeypatch.setattr(_job, "KrylovMDS", functools.partial(KrylovMDS, max_passes=2,
                                                             tol=1e-15))
    emb = embed_store(store)
    assert emb.route == "gram" and "did not converge" in emb.route_note
    assert emb.route_note in emb.summary()
    forced = embed_store(store, route="matrix-free")  # asked for: kept, and marked
    assert forced.route == "matrix-free" and not forced.mds.certificate_.converged


@pytest.mark.parametrize("kw, match", [
    ({"metric": "angular"}, "metric"), ({"n_components": 0}, "n_components"),
    ({"n_components": 29}, "n_components"), ({"block": 2}, "block"),
    ({"max_passes": 1}, "max_passes"), ({"tol": 0.0}, "tol"), ({"tol": True}, "tol"),
])
def test_bad_arguments_are_named(kw, match):
    x = np.random.default_rng(0).normal(size=(30, 10))
    with pytest.raises(InvalidArgument, match=match):
        KrylovMDS(**kw).fit(x)


def test_a_zero_row_has_no_cosine():
    x = np.random.default_rng(0).normal(size=(10, 5))
    x[3] = 0
    with pytest.raises(InvalidArgument, match="zero vector"):
        KrylovMDS(2).fit(x)


def test_cli_route(cli, tmp_path):
    store = TrajectoryStore.create(tmp_path / "s", {"w": (30,)})
    rng = np.random.default_rng(1)
    for epoch in range(10):
        store.append({"w": 2.0 + rng.normal(size=30)}, run="r", epoch=epoch)
    code, out, err = cli("mds", "embed", store.path, "--route", "matrix-free", "--json",
                         tmp_path / "e.json", "--quiet")
    assert code == 0, err
    got = json.loads((tmp_path / "e.json").read_text())
    assert got["route"] == "matrix-free" and "passes over the store" in out
    code, out, err = cli("mds", "embed", store.path, "--route", "matrix-free", "--no-squared")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--route" in err
