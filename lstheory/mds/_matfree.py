"""Classical MDS of a store without the ``n × n`` matrix: the top eigenpairs of the centred Gram
``B = J Û Ûᵀ J`` by block Krylov passes over the stored rows, with a certificate.

Where the squared dissimilarities are squared Euclidean distances (cosine with ``squared``:
``2(1 − cos) = ‖û_i − û_j‖²`` of the unit vectors ``û_i = x_i/‖x_i‖``; euclidean with
``squared``: ``Û = X``), classical MDS is the principal components of the rows of ``Û``:
``B = −½ J A J = J Û Ûᵀ J``. One pass over the store applies ``B`` to an ``n × l`` block
(``Σ_b Z_b (Z_bᵀ Y)`` over column blocks), ``4nPl`` flops instead of the Gram's ``n²P``.

>>> import numpy as np
>>> from lstheory.mds import KrylovMDS
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(60, 3)) @ np.diag([5.0, 2.0, 0.5]) @ rng.normal(size=(3, 40))
>>> fit = KrylovMDS(2, metric="euclidean").fit(x)
>>> fit.embedding_.shape, fit.certificate_.resolved
((60, 2), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import InvalidArgument
from ._gram import _column_blocks

__all__ = ["KrylovMDS", "Certificate"]

_E32 = 2.0**-24
_E64 = 2.0**-53
#: Columns per block of a pass: the second product's float32 sums have at most this many terms
#: (γ_w in the rounding bound); measured per pass of 2,000 × 188,810 at l = 16, one thread:
#: 0.66–0.68 CPU-s at 128 columns, 0.63 at 256, 0.69 at 512.
_WIDTH = 256
#: Rows per float32 partial sum of the first product ``Z_bᵀ Y`` (summed in float64 across
#: chunks): the other γ of the bound. Chunked and plain products took the same time.
_ROWS = 128
#: A block's centre is the mean of every 16th row of the scaled block (any centre gives the
#: same ``B``; a near-mean keeps the float32 deviations, and so the rounding, small).
_CENTRE_STRIDE = 16


def _gamma(m: int) -> float:
    return m * _E32 / (1.0 - m * _E32)


@dataclass(frozen=True)
class Certificate:
    """What the passes prove about the returned eigenpairs of ``B`` (the exact ``B`` of the
    stored values; the computed products ``B̃Q`` differ from ``BQ`` by at most ``rounding``
    in the 2-norm over the final basis ``Q`` of ``m`` vectors: √m times the worst-case bound
    per vector, plus a float64 allowance for Rayleigh–Ritz itself).

    ``eigenvalues``: Ritz values ``θ_1 ≥ … ≥ θ_k`` of the returned pairs (``λ_i ≥ θ_i −
    rounding``, Cauchy interlacing); ``residuals``: ``‖B̃v_i − θ_i v_i‖`` of the computed
    operator (the exact one's are within ``rounding`` more); ``trace``: ``tr B = Σ‖û_i −
    ū‖²`` (one pass, float64 sums), within ``trace_error``; ``explained``: ``Σθ_i / tr B``;
    ``trace_bound``: ``tr B − Σθ_i``, the simplest bound on ``λ_{k+1}`` (``B`` is positive
    semidefinite); ``next_bound``: the sharper bound ``λ_{k+1} ≤ min_p max(θ_{k+1}, tr B −
    Σ_{i≤p} θ_i) + ‖R_p‖₂`` (Weyl on ``B`` in the basis of the ``p`` leading Ritz vectors and
    their complement ``C``, whose largest eigenvalue is at most ``tr C``; ``R_p`` their
    residual block; rounding included); ``gap``: ``θ_k − rounding − next_bound``;
    ``resolved``: ``gap > 0``; ``subspace_error``: then ``sin∠`` between the returned
    subspace and the top-``k`` eigenspace is at most this (Davis–Kahan: ``(‖R̃_k‖₂ +
    rounding) / gap``), ``inf`` otherwise; ``passes``: reads of the store (the first also
    computes the norms); ``converged``: every returned residual below ``tol·θ_1``. The
    bounds are worst cases: on 2,000 DCNN checkpoints the stated ``sin∠ ≤ 0.27`` went with a
    Procrustes disparity of 3e-14 against the Gram route."""

    eigenvalues: np.ndarray
    residuals: np.ndarray
    rounding: float
    trace: float
    trace_error: float
    explained: float
    trace_bound: float
    next_bound: float
    gap: float
    resolved: bool
    subspace_error: float
    passes: int
    converged: bool
    message: str

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.__dict__.items()}


class _Passes:
    """The store's rows as an operator: norms and a start block in the first pass, then
    ``B̃ Y`` per pass (rows scaled to unit norm for cosine, each column block centred on its
    own float32 centre, float32 products with float64 sums across row chunks and blocks)."""

    def __init__(self, mat, cols, metric: str, width: int = _WIDTH):
        self.mat, self.cols, self.metric, self.width = mat, cols, metric, width
        self.n = mat.shape[0]
        self.centres: list[np.ndarray] = []
        self.scale = None
        self.count = 0

    def start(self, omega: np.ndarray) -> np.ndarray:
        """First pass: squared row norms (float64 sums of float32 squares) and ``X Xᵀ Ω``
        (uncentred float32: only a start, never part of the certificate)."""
        n = self.n
        sq, acc = np.zeros(n), np.zeros((n, omega.shape[1]))
        om = omega.astype(np.float32)
        buf = np.empty((n, self.width), np.float32)
        for sl in _column_blocks(self.cols, self.width):
            x = self.mat[:, sl]
            b = buf if x.shape[1] == self.width else np.empty(x.shape, np.float32)
            np.square(x, out=b)
            sq += b.sum(axis=1, dtype=np.float64)
            acc += x @ (x.T @ om)
        self.count += 1
        self.sq_norms = sq
        if self.metric == "cosine":
            if not (sq > 0).all():
                raise InvalidArgument("checkpoints", "a zero vector",
                                      "non-zero weights for metric='cosine'")
            self.scale = (1.0 / np.sqrt(sq)).astype(np.float32)
        return acc

    def apply(self, y: np.ndarray) -> np.ndarray:
        """``Z Zᵀ y`` for centred ``y`` (``n × l``), i.e. ``B y`` before the outer ``J``;
        the first call also records the centres, ``Σ‖z_i‖²`` and ``Σ_i z_i`` per block."""
        n, l = y.shape
        first = not self.centres
        y32 = y.astype(np.float32)
        nc = n // _ROWS
        head = nc * _ROWS
        yh = y32[:head].reshape(nc, _ROWS, l)
        acc = np.zeros((n, l))
        buf = np.empty((n, self.width), np.float32)
        if first:
            self.zz, self.trace_sum = np.zeros(n), 0.0
        for b, sl in enumerate(_column_blocks(self.cols, self.width)):
            x = self.mat[:, sl]
            z = buf if x.shape[1] == self.width else np.empty(x.shape, np.float32)
            if self.scale is None:
                np.copyto(z, x)
            else:
                np.multiply(x, self.scale[:, None], out=z)
            if first:
                self.centres.append(
                    z[::_CENTRE_STRIDE].mean(axis=0, dtype=np.float64).astype(np.float32))
            z -= self.centres[b]
            t = (np.matmul(z[:head].reshape(nc, _ROWS, -1).transpose(0, 2, 1), yh)
                 .sum(axis=0, dtype=np.float64) if nc else np.zeros((z.shape[1], l)))
            if head < n:
                t += z[head:].T @ y32[head:]
            acc += z @ t.astype(np.float32)
            if first:  # tr B of this block: Σ‖z_i‖² − ‖Σ z_i‖²/n
                zz = np.square(z).sum(axis=1, dtype=np.float64)
                s = z.sum(axis=0, dtype=np.float64)
                self.zz += zz
                self.trace_sum -= float(s @ s) / n
        self.count += 1
        return acc

    def _z_error(self) -> tuple[float, float]:
        """``(‖Z̃‖_F, e_F)``: ``e_F`` bounds ``‖Z̃ − Z‖_F``, ``Z``'s own rounding
        ``|Δz_ij| ≤ 3e|û_ij| + e|z_ij|`` (cosine: the norm, the float32 scale and its product;
        euclidean: ``e|z_ij|``, and ``e|x_ij|`` more where the store is not float32)."""
        f = np.sqrt(float(self.zz.sum()))
        if self.metric == "cosine":
            return f, 3 * _E32 * np.sqrt(self.n) + _E32 * f  # ‖Û‖_F = √n
        exact = np.dtype(getattr(self.mat, "dtype", np.float64)) == np.float32
        return f, (0.0 if exact else _E32 * np.sqrt(self.sq_norms.sum())) + _E32 * f

    def rounding(self, m: int) -> float:
        """Bound on ``‖(B̃ − B) q‖`` for a unit ``q`` (``B`` of the stored values): the float32
        products (``y`` and ``t`` rounded once each, sums of ``_ROWS`` and ``width`` terms,
        Cauchy–Schwarz over blocks), ``Z``'s own rounding (:meth:`_z_error`), and a float64
        allowance for the sums over ``m`` chunks and blocks."""
        f, ef = self._z_error()
        c = (1 + _E32) ** 2 * (1 + _gamma(_ROWS)) * (1 + _gamma(self.width)) - 1
        blocks = sum(-(-(c_.stop - c_.start) // self.width) for c_ in self.cols)
        return c * f * f + 2 * ef * (f + ef) + ef**2 + (blocks + self.n + m) * _E64 * f * f

    def trace_error(self) -> float:
        """Bound on ``|tr B̃ − tr B|``: ``Z``'s rounding, the float32 squares, float64 sums."""
        f, ef = self._z_error()
        blocks = sum(-(-(c_.stop - c_.start) // self.width) for c_ in self.cols)
        return 2 * ef * (f + ef) + ef**2 + (2 * _E32 + (blocks + self.n) * _E64) * f * f


def _centred(y: np.ndarray) -> np.ndarray:
    return y - y.mean(axis=0)


def _orth(w: np.ndarray, q: np.ndarray | None, rng, n_max: int) -> np.ndarray:
    """Columns of ``w`` orthonormalised against ``q`` (twice) and each other; columns lost to
    rank (an invariant subspace) are replaced by fresh random centred vectors, so the search
    goes on in directions the start missed. At most ``n_max`` columns."""
    w = _centred(w)
    for _ in range(2):
        if q is not None and q.shape[1]:
            w = w - q @ (q.T @ w)
    u, s, _ = np.linalg.svd(w, full_matrices=False)
    keep = s > 1e-10 * max(s.max(initial=0.0), 1e-300)
    out = u[:, keep][:, :n_max]
    if out.shape[1] < min(w.shape[1], n_max):  # top up with random directions
        extra = _centred(rng.standard_normal((w.shape[0], min(w.shape[1], n_max)
                                              - out.shape[1])))
        basis = out if q is None else np.concatenate([q, out], axis=1)
        for _ in range(2):
            extra = extra - basis @ (basis.T @ extra)
        qe, r = np.linalg.qr(extra)
        out = np.concatenate([out, qe[:, np.abs(np.diag(r)) > 1e-10]], axis=1)
    return out


class KrylovMDS:
    """Classical MDS of squared Euclidean distances between stored rows, matrix-free.

    The top ``n_components`` eigenpairs of ``B = J Û Ûᵀ J`` (``Û``: the rows scaled to unit
    norm for ``metric="cosine"``, so the distances are ``2(1 − cos)``; the rows themselves for
    ``"euclidean"``) by block Krylov: a first pass reads the norms and a start block
    ``B(DΩ)``; every further pass applies ``B`` to one new orthonormal block of ``block``
    vectors; Rayleigh–Ritz on all of them, with the exact products stored, gives the Ritz pairs
    and their residuals. It stops when the returned residuals are below ``tol·θ_1`` and the gap
    to ``λ_{k+1}`` is resolved (:class:`Certificate`), two passes after convergence if the gap
    stays unresolved, after ``max_passes`` reads, or earlier where the residuals fall too slowly
    to converge by then (a flat spectrum; ``certificate_.converged`` is then false).

    Parameters
    ----------
    n_components : embedding dimension ``k``.
    metric : ``"cosine"`` or ``"euclidean"`` (squared distances; ``1 − cos`` as a distance
        and the angle are not Euclidean: they need the full matrix, :class:`ClassicalMDS`).
    block : vectors per pass (at least ``k + 1``; 16 costs a pass about what 8 does).
    tol : residual tolerance relative to ``θ_1``.
    max_passes : most reads of the store, the first included.
    seed : the random start.
    threads : BLAS threads while it runs (``None``: leave the pools as they are).

    Attributes
    ----------
    embedding_ : ``[n, k]``, ``V_k Θ_k^{½}`` (each column's largest entry positive).
    eigenvalues_ : the Ritz values that met the tolerance (at least ``k``), descending.
    certificate_ : :class:`Certificate`. diagnostics_ : an
    :class:`~lstheory.mds.EigenDiagnostics` (no negative eigenvalue: ``B`` is a Gram).
    resolution_ : the bound on the products' rounding over the final basis.
    strain_ : NaN (it needs ``‖B‖_F``, the full matrix).

    Notes
    -----
    Cost: ``passes × 4nPl`` flops, each pass one read of the store; memory ``O(n·l·passes +
    n·256)``; ``Û`` is never formed. Every pass reads float32 (a float64 store is rounded to
    float32 as it is read: within the stated bound), products in float32 with float64 sums
    over chunks of 128 rows and across blocks of 256 columns; see :meth:`Certificate` for
    what is proved.

    References
    ----------
    Y. Saad, *Numerical Methods for Large Eigenvalue Problems* (2011), ch. 4 (Rayleigh–Ritz
    and residual bounds); C. Davis & W. M. Kahan, *The rotation of eigenvectors by a
    perturbation III*, SIAM J. Numer. Anal. 7 (1970) (the sin Θ theorem); C. Musco &
    C. Musco, *Randomized block Krylov methods*, NeurIPS 2015.
    """

    def __init__(self, n_components: int = 2, *, metric: str = "cosine", block: int = 16,
                 tol: float = 1e-6, max_passes: int = 10, seed: int = 0,
                 threads: int | None = None):
        self.n_components, self.metric, self.block = n_components, metric, block
        self.tol, self.max_passes, self.seed, self.threads = tol, max_passes, seed, threads

    def _check(self, n: int) -> int:
        from .._validate import _int_in

        if self.metric not in ("cosine", "euclidean"):
            raise InvalidArgument("metric", self.metric, "'cosine' or 'euclidean' (squared "
                                  "distances; other dissimilarities need ClassicalMDS)")
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 2:
            raise InvalidArgument("n_components", k, f"an integer in [1, {n - 2}] for {n} points")
        _int_in(self.block, "block", int(k) + 1, None, f"an integer ≥ {k + 1} (n_components + 1)")
        _int_in(self.max_passes, "max_passes", 2, None, "an integer ≥ 2")
        if isinstance(self.tol, bool) or not (isinstance(self.tol, (int, float))
                                              and 0 < self.tol < 1):
            raise InvalidArgument("tol", self.tol, "a number in (0, 1)")
        return int(k)

    def fit(self, x, layers=None) -> KrylovMDS:
        """Fit to the rows of a :class:`TrajectoryStore` (``layers``: the columns used) or of an
        array ``[n, P]`` (a memory map works)."""
        from .._runtime import limit_threads
        from ._dissimilarity import _source

        mat, cols, _ = _source(x, layers, None)
        n = mat.shape[0]
        k = self._check(n)
        with limit_threads(self.threads, pools="blas", torch_threads=False):
            return self._run(_Passes(mat, cols, self.metric), n, k)

    def _run(self, ops: _Passes, n: int, k: int) -> KrylovMDS:
        rng = np.random.default_rng(self.seed)
        l = min(int(self.block), n - 1)
        omega = rng.standard_normal((n, l + 1))
        g = ops.start(omega)
        d = np.sqrt(ops.sq_norms) if self.metric == "cosine" else np.ones(n)
        c = np.linalg.svd((omega.T @ d)[None, :])[2][1:].T  # ⊥ Ωᵀd: J(DΩc) = DΩc
        q = _orth((g / d[:, None]) @ c, None, rng, n - 1)  # = B(DΩc): a start one power in
        qs, ws = np.empty((n, 0)), np.empty((n, 0))
        since, history = 0, []
        while True:
            w = _centred(ops.apply(q))
            qs, ws = np.concatenate([qs, q], axis=1), np.concatenate([ws, w], axis=1)
            cert, theta, v = self._certify(ops, qs, ws, k)
            since = since + 1 if cert.converged else 0
            history.append(float(cert.residuals.max() / max(cert.eigenvalues[0], 1e-300)))
            if ((cert.converged and cert.resolved) or since > 2 or ops.count >= self.max_passes
                    or qs.shape[1] >= n - 1 or self._hopeless(history, ops.count)):
                break
            q = _orth(w, qs, rng, min(l, n - 1 - qs.shape[1]))
        self._finish(cert, theta, v, k)
        return self

    def _hopeless(self, history: list[float], count: int) -> bool:
        """After three products, whether the relative residual, falling at its last rate
        (a factor above ½ per pass), would still be 100× over ``tol`` at ``max_passes``: a
        flat spectrum (iid noise: 10 passes of 2,000 × 20,000 left it at 0.02) is given up
        early rather than read to the end."""
        if len(history) < 3 or history[-1] <= self.tol:
            return False
        rate = history[-1] / max(history[-2], 1e-300)
        left = self.max_passes - count
        return rate > 0.5 and history[-1] * min(rate, 1.0) ** left > 100 * self.tol

    def _certify(self, ops: _Passes, q: np.ndarray, w: np.ndarray, k: int):
        m = q.shape[1]
        h = q.T @ w
        theta, s = np.linalg.eigh(0.5 * (h + h.T))
        theta, s = theta[::-1], s[:, ::-1]
        v, r = q @ s, w @ s - (q @ s) * theta
        res = np.linalg.norm(r, axis=0)
        rtr = r.T @ r
        f2 = float(ops.zz.sum())
        trace = f2 + ops.trace_sum
        # ‖ΔW S‖₂ ≤ ‖ΔW‖_F ≤ √m · (the per-column bound), and an allowance for the float64
        # arithmetic of Rayleigh–Ritz itself (inner products of length n, an m × m eigh)
        eta = ops.rounding(m) * np.sqrt(m) + 10 * (q.shape[0] + m) * _E64 * max(f2, trace)
        tr_err = ops.trace_error()
        tr_up = trace + tr_err
        bound = tr_up - float(theta[:k].sum()) + k * eta  # λ_{k+1} ≤ tr B − Σ_{i≤k} λ_i
        for p in range(k + 1, m + 1):
            rp = np.sqrt(max(np.linalg.eigvalsh(rtr[:p, :p])[-1], 0.0))
            tr_c = tr_up - float(theta[:p].sum()) + p * eta
            bound = min(bound, max(float(theta[k]), tr_c) + rp + 2 * eta)
        gap = float(theta[k - 1]) - eta - bound
        rk = np.sqrt(max(np.linalg.eigvalsh(rtr[:k, :k])[-1], 0.0)) + eta
        converged = bool((res[:k] <= self.tol * theta[0]).all())
        cert = Certificate(theta[:k].copy(), res[:k].copy(), float(eta), float(trace),
                           float(tr_err),
                           float(theta[:k].sum() / trace) if trace > 0 else float("nan"),
                           float(tr_up - theta[:k].sum()), float(bound), gap, bool(gap > 0),
                           float(rk / gap) if gap > 0 else float("inf"), ops.count, converged,
                           "")
        return cert, (theta, res), v

    def _finish(self, cert: Certificate, theta_res, v: np.ndarray, k: int) -> None:
        from ._classical import EigenDiagnostics

        theta, res = theta_res
        good = max(k, int(np.argmin(res <= self.tol * theta[0])) if not
                   (res <= self.tol * theta[0]).all() else res.size)
        if theta[k - 1] <= 0:
            raise InvalidArgument("n_components", k, "at most the number of positive "
                                  "eigenvalues of B (the points span fewer dimensions)")
        vk = v[:, :k] * np.sign(v[np.abs(v[:, :k]).argmax(axis=0), np.arange(k)])
        self.embedding_ = vk * np.sqrt(theta[:k])
        self.eigenvalues_ = theta[:good].copy()
        cert = Certificate(**{**cert.__dict__, "message": _message(cert, k, self.metric)})
        self.certificate_ = cert
        self.resolution_ = cert.rounding
        self.strain_ = float("nan")
        self.squared = True
        self.diagnostics_ = EigenDiagnostics(self.eigenvalues_, 0, 0.0, 0.0, cert.explained,
                                             cert.message)


def _message(c: Certificate, k: int, metric: str) -> str:
    what = "2(1 − cos)" if metric == "cosine" else "squared euclidean distances"
    lam = c.eigenvalues
    head = (f"matrix-free ({c.passes} passes over the store): top {k} eigenpairs of B, "
            f"residuals ≤ {c.residuals.max() / lam[0]:.2g}·λ_1 (rounding ≤ "
            f"{c.rounding / lam[0]:.2g}·λ_1); explained {100 * c.explained:.2f}% of tr B = "
            f"{c.trace:.6g}; λ_{k + 1} ≤ {c.next_bound:.6g} (tr B − Σ: {c.trace_bound:.6g})")
    if not c.converged:
        head += "; NOT converged within the passes (residuals above tol)"
    if c.resolved:
        return (f"{head}; gap to λ_{k} resolved ({c.gap:.3g}): the {k}-D subspace is within "
                f"sin∠ ≤ {c.subspace_error:.2g} of the exact one; {what} is Euclidean: no "
                "negative eigenvalues")
    return (f"{head}; the gap between λ_{k} ≥ {lam[-1] - c.rounding:.6g} and λ_{k + 1} is NOT "
            "resolved by these residuals: the spectrum may be degenerate there (the embedding "
            "is then one of many equally good ones); route='gram' computes it from the full "
            "matrix")
