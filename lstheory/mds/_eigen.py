"""The eigensolvers behind :class:`~lstheory.mds.ClassicalMDS`: every eigenvalue densely, or
the top pairs and the most negative eigenvalues by one two-ended Lanczos run (ARPACK as the
fallback), with a Cholesky test of the negative spectrum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Below this many points the "lanczos" solver computes every eigenvalue densely (it costs
#: less than ARPACK's set-up and gives the exact diagnostics).
_DENSE_BELOW = 32
#: Lanczos vectors ARPACK keeps between restarts, for the top eigenpairs and for the probe of
#: the negative end. Measured at n = 2,000 (2,000 DCNN checkpoints, ``1 − cos``; and 2,000
#: Gaussian points in 20-D): the top pair took 17–45 products at 16 vectors, 25 at 24, 33 at
#: 32, 65 at 64 (each run converges within its first factorisation from 24 on); the probe of a
#: spectrum with real negative eigenvalues 25–46 products at 16–32 vectors.
_NCV_TOP = 24
_NCV_PROBE = 32


@dataclass(frozen=True)
class _Spectrum:
    """Eigenpairs from a solver: ``values`` (any order), ``vectors`` (NaN columns where not
    computed), ``complete`` (every eigenvalue known), ``note`` (how they were obtained),
    ``no_negative`` (shown that no eigenvalue is below ``−tol·λ_max``)."""

    values: np.ndarray
    vectors: np.ndarray
    complete: bool
    note: str
    no_negative: bool = False


def _dense(b: np.ndarray, why: str = "") -> _Spectrum:
    import scipy.linalg  # here, not at import: the CLI's start-up (lstheory.mds: 0.16 s)

    w, v = scipy.linalg.eigh(b)
    return _Spectrum(w, v, True, why)


def _definite(b: np.ndarray, shift: float) -> bool:
    """Whether ``B + shift·I`` is positive definite: its Cholesky factorisation succeeds.

    If it does, ``λ_min(B) > −shift`` up to the factorisation's backward error (of order
    ``n·2⁻⁵³·‖B‖``, about 2e-13·λ_max at n = 2,000, far below ``shift = tol·λ_max`` at the
    default ``tol = 1e-10``). One ``n³/3`` factorisation: measured 0.12 CPU-s at n = 2,000 on
    one thread (torch's LAPACK; scipy's ``dpotrf`` took 0.5–1.1 s, ``eigvalsh`` 0.6–0.75 s).
    It fails early, at the first non-positive pivot, when the negative part is large.

    The shift is added to ``b``'s own diagonal, which is restored exactly afterwards (saved,
    not subtracted), so no ``n × n`` copy is made of a writable float64 ``b``. Float32 is not
    exact enough here: its factorisation's backward error, about ``n·2⁻²⁴·‖B‖`` (1e-4·λ_max
    at n = 2,000), is a million times the default shift.
    """
    import torch

    if not (b.dtype == np.float64 and b.flags.c_contiguous and b.flags.writeable):
        b = np.array(b, dtype=np.float64, order="C")
    diagonal = b.diagonal().copy()
    try:
        b[np.diag_indices_from(b)] += shift
        _, info = torch.linalg.cholesky_ex(torch.from_numpy(b))
    finally:
        np.fill_diagonal(b, diagonal)
    return int(info) == 0


#: Most Lanczos steps of the two-ended run before it hands over to ARPACK.
_MAX_STEPS = 200


def _two_ended(b: np.ndarray, k: int, probe: int, tol: float):
    """One Lanczos run (full reorthogonalisation, deterministic start) whose Krylov space serves
    both ends of the spectrum: it stops when the top ``k`` Ritz pairs have residuals below
    ``1e-12·λ_max`` and either the ``probe`` lowest Ritz values have residuals below
    ``max(100·tol, 1e-12)·λ_max`` or the lowest Ritz value is above ``−tol·λ_max`` (then the
    caller settles the question by Cholesky). Returns ``(θ ascending, residuals, top vectors,
    steps)``, or ``None`` (no convergence within :data:`_MAX_STEPS`, or an invariant subspace
    reached before ``n`` steps, which may hide eigenvalues): the caller then uses ARPACK.

    Measured at n = 2,000 (2,000 DCNN checkpoints): 25 products for both ends of ``1 − cos``
    taken as a distance, against 58 for ARPACK's two runs, one n² pass each."""
    import scipy.linalg

    n = b.shape[0]
    steps = min(_MAX_STEPS, n)
    q = np.empty((steps + 1, n))
    v0 = np.ones(n) / np.sqrt(n) + np.linspace(-1, 1, n) / n
    q[0] = v0 / np.linalg.norm(v0)
    alpha, beta = np.empty(steps), np.empty(steps)
    atol = float(np.clip(100 * tol, 1e-12, 1e-6))
    for j in range(steps):
        w = b @ q[j]
        alpha[j] = q[j] @ w
        for _ in range(2):  # full reorthogonalisation, twice ("twice is enough")
            w -= q[: j + 1].T @ (q[: j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        m = j + 1
        if m < n and beta[j] <= 1e-13 * np.abs(alpha[:m]).max():
            return None  # an invariant subspace: eigenvalues outside it would be missed
        if m < min(n, k + probe + 2):
            q[m] = w / beta[j]
            continue
        th, s = scipy.linalg.eigh_tridiagonal(alpha[:m], beta[: m - 1])
        res = beta[j] * np.abs(s[-1])
        lam = float(max(abs(th[-1]), abs(th[0])))
        top = (res[-k:] <= 1e-12 * lam).all()
        low = (res[:probe] <= atol * lam).all() or th[0] > -tol * lam
        if m == n or (top and low):
            return th, res, q[:m].T @ s[:, -k:], m
        q[m] = w / beta[j]
    return None


def _lanczos(b: np.ndarray, k: int, probe: int, tol: float) -> _Spectrum:
    """Top ``k`` eigenpairs and the ``probe`` most negative eigenvalues of symmetric ``b``,
    from one two-ended Lanczos run (:func:`_two_ended`). A Ritz value is a Rayleigh quotient,
    so one below ``−tol·λ_max`` proves a negative eigenvalue; the lowest Ritz values whose
    residuals meet the probe tolerance are reported. When none is below, a Cholesky
    factorisation of ``B + tol·λ_max·I`` (:func:`_definite`) shows that no eigenvalue is.
    Anything else (no convergence, an invariant subspace, a failed Cholesky with no negative
    Ritz value) goes to :func:`_arpack`, the route of the previous release."""
    n = b.shape[0]
    if n < _DENSE_BELOW:
        return _dense(b, f"n = {n} < {_DENSE_BELOW}: every eigenvalue computed densely")
    run = _two_ended(b, k, probe, tol)
    if run is None:
        return _arpack(b, k, probe, tol)
    th, res, vt, steps = run
    lam = float(th[-1])
    if lam <= 0.0:
        return _dense(b, "B has no positive eigenvalue: dense fallback")
    wt = th[-k:]
    if th[0] >= -tol * lam:
        if tol > 0 and _definite(b, tol * lam):
            note = (f"Cholesky of B + {tol:g}·λ_max·I: no eigenvalue below −{tol:g}·λ_max; "
                    f"{steps} Lanczos steps")
            return _Spectrum(wt, vt, False, note, no_negative=True)
        return _arpack(b, k, probe, tol)
    probe = min(max(int(probe), 1), th.size - k)
    atol = float(np.clip(100 * tol, 1e-12, 1e-6)) * lam
    ok = res[:probe] <= atol
    count = int(np.argmin(ok)) if not ok.all() else probe  # the converged lowest ones
    if count == 0:
        return _arpack(b, k, probe, tol)
    wb = th[:count]
    note = f"{steps} Lanczos steps for both ends"
    if count < probe:
        note += f"; only {count} of {probe} probe eigenvalues converged"
    vectors = np.concatenate([vt, np.full((n, count), np.nan)], axis=1)
    return _Spectrum(np.concatenate([wt, wb]), vectors, False, note)


def _arpack(b: np.ndarray, k: int, probe: int, tol: float) -> _Spectrum:
    """Top ``k`` eigenpairs and the ``probe`` most negative eigenvalues of symmetric ``b``.

    The top pairs come from ARPACK on ``B``. Whether any eigenvalue lies below ``−tol·λ_max``
    is decided first by a Cholesky factorisation of ``B + tol·λ_max·I`` (:func:`_definite`):
    a Euclidean input (``B`` positive semidefinite, often with a continuum of tiny eigenvalues
    at the bottom, where Lanczos converges slowly or not at all: 2(1 − cos) of 2,000
    checkpoints took 3,000–12,660 products without converging) is settled by it in one
    factorisation. Otherwise the bottom of the spectrum is found as the largest-magnitude end
    of the shifted operator ``C = B − λ_max I`` (spectrum in ``[λ_min − λ_max, 0]``), with
    ARPACK's relative tolerance therefore relative to ``λ_max``. A Ritz value θ is a Rayleigh
    quotient, so ``λ_min ≤ θ``: one θ below ``−tol·λ_max`` proves a negative eigenvalue
    whatever the convergence. When ARPACK cannot decide (no convergence and no such θ), or
    ``n`` is small, every eigenvalue is computed densely and the note says so.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    n = b.shape[0]
    if n < _DENSE_BELOW:
        return _dense(b, f"n = {n} < {_DENSE_BELOW}: every eigenvalue computed densely")
    v0 = np.ones(n) / np.sqrt(n) + np.linspace(-1, 1, n) / n  # deterministic start
    try:
        wt, vt = eigsh(b, k=k, which="LA", v0=v0, tol=1e-12, ncv=min(n, max(2 * k + 1,
                                                                              _NCV_TOP)))
    except ArpackNoConvergence:
        return _dense(b, "ARPACK did not converge on the top eigenpairs: dense fallback")
    shift = float(max(wt.max(), 0.0))
    if shift <= 0.0:  # no positive eigenvalue: the dense route reports it the same way
        return _dense(b, "B has no positive eigenvalue: dense fallback")
    if tol > 0 and _definite(b, tol * shift):
        note = f"Cholesky of B + {tol:g}·λ_max·I: no eigenvalue below −{tol:g}·λ_max"
        return _Spectrum(wt, vt, False, note, no_negative=True)
    c = LinearOperator((n, n), matvec=lambda x: b @ x - shift * x, dtype=np.float64)
    probe = min(max(int(probe), 1), n - k - 1)
    # ARPACK's tolerance is on residuals, relative to |θ − λ_max| ≥ λ_max; a Ritz value's error
    # is about ‖r‖² / gap, far below ‖r‖, so 1e-8 decides a threshold of 1e-10·λ_max
    atol = float(np.clip(100 * tol, 1e-12, 1e-6))
    try:
        ncv = min(n, max(2 * probe + 1, _NCV_PROBE))
        wb = eigsh(c, k=probe, which="LM", v0=v0, tol=atol, ncv=ncv, return_eigenvectors=False)
        wb = wb + shift
        note = ""
    except ArpackNoConvergence as e:
        wb = np.asarray(e.eigenvalues, dtype=np.float64) + shift
        if not (wb < -tol * shift).any():
            return _dense(b, "ARPACK could not bound the negative spectrum: dense fallback")
        note = f"only {wb.size} of {probe} probe eigenvalues converged"
    vectors = np.concatenate([vt, np.full((n, wb.size), np.nan)], axis=1)
    return _Spectrum(np.concatenate([wt, wb]), vectors, False, note)
