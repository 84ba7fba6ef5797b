"""The convex program of CCNN: softmax loss of ``tr(Z(x) A_k) + b_k`` over the nuclear ball.

.. math::

    \\min_{A,\\,b}\\; \\frac1n \\sum_i \\ell\\big((\\operatorname{tr}(Z(x_i) A_k) + b_k)_{k},\\,
    y_i\\big) \\quad \\text{s.t.}\\quad \\|A\\|_* \\le R,
    \\qquad A = [A_1 \\cdots A_{d_2}] \\in \\mathbb{R}^{m \\times P d_2}

with ℓ the multinomial logistic loss. Two solvers: projected SGD (the paper's; mini-batches,
step ``lr/√(1+epoch)``) and full-batch accelerated projected gradient (FISTA with backtracking
and adaptive restart; deterministic, stops on the norm of the gradient mapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum
from typing import ClassVar

import torch

from .._errors import InvalidArgument, UnknownName
from .._options import Presets, resolve_options
from .._random import torch_generator
from .._runtime import limit_threads
from .._validate import finite_float, positive_int
from ._projection import nuclear_norm, project_nuclear_ball

__all__ = ["SolverOptions", "ConvexFit", "FitStatus", "fit_nuclear_softmax", "softmax_objective",
           "as_nuclear_matrix", "from_nuclear_matrix"]

METHODS = ("sgd", "pgd")


@dataclass(frozen=True)
class SolverOptions(Presets):
    """How to solve the convex program.

    method : ``"sgd"`` (projected mini-batch SGD, step ``lr/√(1+epoch)``) or ``"pgd"``
        (full-batch accelerated projected gradient with backtracking from step ``lr``).
    lr : initial step size.
    max_iter : epochs (``sgd``) or iterations (``pgd``).
    batch_size : mini-batch size (``sgd`` only).
    tol : ``pgd`` stops when the gradient mapping's norm ‖x − P(x − t∇f)‖/t ≤ tol.
    threads : torch and BLAS threads during the solve (restored after); ``None`` leaves them.
        The default 1 suits the many small SVDs and products of a step: with two threads on a
        busy machine they can run 10–50× slower.

    Presets: ``fast``, ``default``, ``thorough`` (:meth:`preset`).
    """

    method: str = "sgd"
    lr: float = 8.0
    max_iter: int = 30
    batch_size: int = 256
    tol: float = 1e-5
    threads: int | None = 1

    def __post_init__(self):
        if self.method not in METHODS:
            raise UnknownName("method", self.method, METHODS)
        for name in ("max_iter", "batch_size"):
            positive_int(getattr(self, name), name)
        for name in ("lr", "tol"):
            finite_float(getattr(self, name), name, low=0, open=(True, False))

    _presets: ClassVar[dict[str, dict]] = {"fast": {"max_iter": 10}, "default": {},
                                           "thorough": {"max_iter": 100}}
    #: ``max_iter`` of each preset for ``method="pgd"`` (iterations, not epochs)
    _pgd_iters: ClassVar[dict[str, int]] = {"fast": 200, "default": 1000, "thorough": 5000}

    @classmethod
    def preset(cls, name: str, method: str = "sgd", **overrides) -> SolverOptions:
        """The shared presets (:class:`lstheory._options.Presets`), counted in epochs for
        ``sgd`` and in iterations for ``pgd``."""
        if method == "pgd" and name in cls._pgd_iters:
            overrides = {"max_iter": cls._pgd_iters[name], **overrides}
        return super().preset(name, method=method, **overrides)


class FitStatus(str, Enum):
    """How a solve ended (a ``str``: ``FitStatus.CONVERGED == "converged"``).

    ``converged``: ``pgd``'s gradient mapping reached ``tol``. ``max-iter``: ``pgd`` stopped at
    ``max_iter`` above ``tol`` (raise ``max_iter``). ``epochs-done``: ``sgd`` ran its fixed
    number of epochs (it has no stopping test).
    """

    CONVERGED = "converged"
    MAX_ITER = "max-iter"
    EPOCHS_DONE = "epochs-done"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ConvexFit:
    """A solution of the convex program and how it was reached.

    ``A[m, P, K]`` (the nuclear-norm matrix is :func:`as_nuclear_matrix` of it), ``intercept[K]``,
    ``objective`` (the full training objective at the returned point), ``history`` (the objective
    after each epoch / iteration), ``converged``, ``status`` (a :class:`FitStatus`) and
    ``message`` (what happened, with the numbers, as a user can act on it).
    """

    A: torch.Tensor
    intercept: torch.Tensor
    objective: float
    history: tuple[float, ...]
    n_iter: int
    converged: bool
    status: FitStatus
    radius: float
    message: str = ""

    def __repr__(self) -> str:  # a summary, not the tensors
        return (f"ConvexFit(A {list(self.A.shape)}, objective {self.objective:.6g}, radius "
                f"{self.radius:.4g}, {self.n_iter} iterations, "
                f"{'converged' if self.converged else 'not converged'}: {self.message})")

    @property
    def nuclear_norm(self) -> float:
        return nuclear_norm(as_nuclear_matrix(self.A).double())


def as_nuclear_matrix(A: torch.Tensor) -> torch.Tensor:
    """``A[m, P, K]`` as the ``m × (P·K)`` matrix ``[A_1 … A_K]`` (columns permuted, which leaves
    every singular value unchanged)."""
    m, P, K = A.shape
    return A.reshape(m, P * K)


def from_nuclear_matrix(M: torch.Tensor, P: int, K: int) -> torch.Tensor:
    return M.reshape(M.shape[0], P, K)


def _logits(Z: torch.Tensor, A: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Z[n, P, m], A[m, P, K]: logits[n, k] = Σ_{p,i} Z[n,p,i] A[i,p,k] = tr(Z(x_n) A_k) + b_k
    n, P, m = Z.shape
    return Z.reshape(n, P * m) @ A.permute(1, 0, 2).reshape(P * m, -1) + b


def softmax_objective(Z: torch.Tensor, y: torch.Tensor, A: torch.Tensor,
                      b: torch.Tensor) -> float:
    """Mean multinomial logistic loss of the linear-in-A predictor (a convex function of A, b)."""
    return float(torch.nn.functional.cross_entropy(_logits(Z, A, b), y.to(Z.device)))


def _grad(Z, y, A, b):
    """Loss and its gradient in (A, b), in closed form (softmax − one-hot)."""
    n, P, m = Z.shape
    logits = _logits(Z, A, b)
    loss = torch.nn.functional.cross_entropy(logits, y)
    g = torch.softmax(logits, 1)
    g[torch.arange(n, device=g.device), y] -= 1.0
    g /= n
    gA = (Z.reshape(n, P * m).T @ g).reshape(P, m, -1).permute(1, 0, 2)
    return float(loss), gA, g.sum(0)


def _project(A: torch.Tensor, radius: float) -> torch.Tensor:
    m, P, K = A.shape
    return from_nuclear_matrix(project_nuclear_ball(as_nuclear_matrix(A), radius), P, K)


def fit_nuclear_softmax(Z: torch.Tensor, y: torch.Tensor, radius: float, *,
                        n_classes: int | None = None, init: torch.Tensor | None = None,
                        options: SolverOptions | str | None = "default", seed: int = 0,
                        progress=None) -> ConvexFit:
    """Solve the CCNN program on features ``Z[n, P, m]`` and labels ``y[n]`` (ints in [0, K)).

    Parameters
    ----------
    Z, y : pooled patch features and integer labels.
    radius : the nuclear-norm bound R.
    init : a starting ``A[m, P, K]`` (projected onto the ball first); zeros by default.
    options : a :class:`SolverOptions` or a preset name.
    seed : orders the mini-batches (``sgd``).

    Returns
    -------
    ConvexFit

    Notes
    -----
    The problem is convex, so every start reaches the same optimal value; only the method's
    accuracy (SGD noise, ``tol``) separates the values found.
    """
    options = resolve_options(SolverOptions, options)
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or radius < 0:
        raise InvalidArgument("radius", radius, "a number ≥ 0")
    y = torch.as_tensor(y, dtype=torch.int64).to(Z.device)
    n, P, m = Z.shape
    K = int(n_classes or int(y.max()) + 1)
    A = torch.zeros(m, P, K, dtype=Z.dtype, device=Z.device) if init is None else _project(
        init.to(Z.device, Z.dtype).clone(), radius)
    if A.shape != (m, P, K):
        raise InvalidArgument("init", tuple(A.shape), f"a tensor of shape {(m, P, K)}")
    b = torch.zeros(K, dtype=Z.dtype, device=Z.device)
    run = _sgd if options.method == "sgd" else _pgd
    with _threads(options.threads):
        return run(Z, y, A, b, float(radius), options, seed, progress)


def _threads(n: int | None):
    """Limit torch's and every native pool's threads (BLAS, OpenMP) to ``n`` inside the block
    (:func:`lstheory._runtime.limit_threads`); ``None``: unchanged."""
    return limit_threads(n, pools="all")


def _sgd(Z, y, A, b, radius, opts, seed, progress) -> ConvexFit:
    gen = torch_generator(seed, stream="ccnn-sgd")
    n = len(y)
    history = []
    for epoch in range(opts.max_iter):
        lr = opts.lr / math.sqrt(1.0 + epoch)
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, opts.batch_size):
            idx = perm[s:s + opts.batch_size].to(Z.device)  # order drawn on CPU: same on any device
            _, gA, gb = _grad(Z[idx], y[idx], A, b)
            A = _project(A - lr * gA, radius)
            b = b - lr * gb
        history.append(softmax_objective(Z, y, A, b))
        if progress is not None:
            progress(f"ccnn sgd: epoch {epoch + 1}/{opts.max_iter} objective {history[-1]:.4f}")
    return ConvexFit(A, b, history[-1], tuple(history), opts.max_iter, True,
                     FitStatus.EPOCHS_DONE, radius,
                     f"ran {opts.max_iter} epochs of projected SGD")


def _pgd(Z, y, A, b, radius, opts, seed, progress) -> ConvexFit:
    t, mom = opts.lr, 1.0
    xA, xb = A, b
    f_x, _, _ = _grad(Z, y, xA, xb)
    history, gmap = [f_x], math.inf
    for it in range(1, opts.max_iter + 1):
        f_y, gA, gb = _grad(Z, y, A, b)
        while True:
            nA, nb = _project(A - t * gA, radius), b - t * gb
            dA, db = nA - A, nb - b
            f_n = softmax_objective(Z, y, nA, nb)
            quad = f_y + float((gA * dA).sum() + (gb * db).sum()) + float(
                (dA**2).sum() + (db**2).sum()) / (2 * t)
            if f_n <= quad + 1e-12 * max(1.0, abs(f_y)) or t < 1e-12:
                break
            t *= 0.5
        gmap = math.sqrt(float((dA**2).sum() + (db**2).sum())) / t
        if f_n > f_x:  # adaptive restart: drop the momentum
            mom, A, b = 1.0, xA, xb
            history.append(f_x)
            if gmap <= opts.tol:
                break
            continue
        mom_next = (1 + math.sqrt(1 + 4 * mom * mom)) / 2
        beta = (mom - 1) / mom_next
        A, b = nA + beta * (nA - xA), nb + beta * (nb - xb)
        xA, xb, f_x, mom = nA, nb, f_n, mom_next
        history.append(f_x)
        t *= 1.25  # let the step grow back after backtracking
        if progress is not None and it % 50 == 0:
            progress(f"ccnn pgd: iteration {it} objective {f_x:.6f} gradient map {gmap:.2e}")
        if gmap <= opts.tol:
            break
    ok = gmap <= opts.tol
    message = (f"converged: gradient mapping {gmap:.2e} ≤ tol {opts.tol:.0e} after {it} "
               "iterations" if ok else f"stopped at max_iter={opts.max_iter} with gradient "
               f"mapping {gmap:.2e} > tol {opts.tol:.0e}; raise max_iter")
    status = FitStatus.CONVERGED if ok else FitStatus.MAX_ITER
    return ConvexFit(xA, xb, f_x, tuple(history), it, ok, status, radius, message)


def with_method(options: SolverOptions, method: str) -> SolverOptions:
    return replace(options, method=method)
