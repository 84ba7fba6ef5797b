"""Batched evaluation of a model at many points ``θ₀ + Σ_j c_j d_j`` of parameter space.

K points share one forward pass: their parameters are stacked ``[K, ...]`` and the model runs
under :func:`torch.func.vmap` of :func:`torch.func.functional_call`, so every layer sees K weight
sets at once (batched matmuls / grouped convolutions). ``points_per_pass="auto"`` measures the
throughput of growing K on the first points of a run (whose values are kept) and settles on the
fastest; on a GPU that is usually tens of points, on a small CPU often one.

Three faster routes, same values to float rounding (tested against the general route and against
direct evaluation):

* chains of linear layers and elementwise activations (MLPs without batch norm,
  :mod:`._fastpath`): the first layer's pre-activation is linear in the coordinates, so ``W₀x``,
  ``D_j x`` are computed once per batch of data and cached, and each point combines them; the
  later layers run in a ``[features, samples]`` layout, several points per batched matmul where
  their activations fit in cache;
* chains of linear/convolution layers, batch norm and parameter-free operations (the DCNN,
  VGG-9, MLPs with batch norm, :mod:`._layerchain`): batch norm folded into the layer before it
  (``keep`` policy), the first layer cached or computed per point, whichever is faster;
* the same chains with every convolution 2-D on small maps (the DCNN on digits,
  :mod:`._windowchain`): feature maps channels-last, each output pixel a sum of matrix products
  over the rows of its window, so the taps that fall on the padding cost nothing (the DCNN's
  second layer: 25 of 36); taken where one point on one pass is measured faster than the chain
  route;
* graphs of such layers (residual nets: ResNet-20/56/110, :mod:`._layergraph`): batch norm
  folded the same way, evaluated point by point by an interpreter over the traced graph instead
  of ``vmap`` (ResNet-20 on digits, 21 × 21 points, one thread: 30.9 s against 42.7 s for
  ``loss-landscapes``, ``benchmarks/bench_surface.py``, quiet machine, 2026-12-04).

``precision="bfloat16"`` (:data:`PRECISIONS`, off by default) runs the fast routes' hidden
layers in bfloat16 within a stated error (:data:`BFLOAT16_LOSS_TOL`).

On a CPU the fast routes split the data into cache-sized passes and share them among threads
(:mod:`._chainroute`, the fast routes' schedule).

Layout: one module per route — :mod:`._vmaproute` (the general route), :mod:`._fastpath`
(:class:`LinearChain`), :mod:`._layerchain` (:class:`LayerChain`), :mod:`._layergraph`
(:class:`LayerGraph`), :mod:`._windowchain` (:class:`WindowChain`), with :mod:`._chainroute`
scheduling the last four — behind
:class:`PointEvaluator`, which holds the model, the directions and the loss kernels and picks
the route at each :meth:`~PointEvaluator.evaluate`. Callers run one loop,
:meth:`PointEvaluator.iter_chunks`, which also sizes the groups of points.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._errors import InvalidArgument, UnknownName
from .._runtime import resolve_device
from .._validate import positive_int
from .._vocab import BN_POLICIES, bn_policy, loss_name
from ._chainroute import evaluate_chain, use_chain
from ._directions import Direction
from ._fastpath import ChainBase
from ._totals import Totals
from ._vmaproute import evaluate_vmap, stack_points

__all__ = [
    "BFLOAT16_LOSS_TOL",
    "BN_POLICIES",
    "LOSSES",
    "PRECISIONS",
    "PointEvaluator",
    "Totals",
    "has_batch_norm",
]

#: The loss names of :mod:`lstheory._vocab` a surface takes: ``cross-entropy`` on logits (also
#: spelled ``cross_entropy``, ``ce``); ``mse``: ``mean_c (f_c(x) − onehot(y)_c)²`` per sample.
LOSSES = ("cross-entropy", "mse")
#: ``full``: every operation in the evaluator's ``dtype``. ``bfloat16``: on the fast routes (linear
#: chain, layer chain and its per-window form, layer graph), every layer after the first and before
#: the last takes bfloat16 operands (weights, inputs; float32 accumulation inside the kernel) and
#: keeps its output in bfloat16 (the linear chain rounds the product to bfloat16 and adds the bias
#: and runs the activation in ``dtype``); the first layer (cached or combined in ``dtype``), the
#: last layer and the loss stay in ``dtype``; the general route ignores it. bfloat16 matmuls ran at
#: 1.8× float32's rate at the benchmark MLP's shapes on these AVX-512-bf16 cores (58 against 102 µs
#: per point and 436 samples, one thread); ResNet-20 on digits took 1.54 against 2.84 CPU-seconds.
#: Error against ``full``: :data:`BFLOAT16_LOSS_TOL`.
PRECISIONS = ("full", "bfloat16")
#: The stated bound of ``precision="bfloat16"``: ``|L_bf16 − L_full| ≤ BFLOAT16_LOSS_TOL ·
#: (1 + L_full)`` for every point's mean loss. Where it comes from: a bfloat16 layer rounds its
#: operands and output to 8 significant bits (unit roundoff u = 2⁻⁸), so each pre-activation is
#: off by at most about 3u of the sum of its terms' magnitudes; through 1-Lipschitz activations
#: these add up layer by layer, and cross-entropy and the square loss move by at most about the
#: logits' error, relative to ``1 + L`` while the logits stay of the order of the loss. The
#: errors do not align, so the measured errors are far below the worst case: over 150 random
#: MLPs (2-4 hidden layers of 8-96 units, inputs of standard deviation 0.1-10, coordinates up to
#: 3; 1,050 points) median 5e-5, 99th percentile 2.2e-3, largest 6.9e-3; ResNet-20/56, DCNN and
#: VGG-9 on digits, 16 points each, largest 1.5e-3. ``tests/test_surface_precision.py`` checks
#: the bound by hypothesis on MLPs, ResNet-8/14, DCNN and VGG-9. Not a worst-case bound: logits
#: far larger than the loss (a confident net at a large perturbation) can exceed it. Accuracy can
#: differ where two logits of a sample are within the error.
BFLOAT16_LOSS_TOL = 1.6e-2
#: Rows of the forward pass that sizes the groups of points (:meth:`PointEvaluator.memory_cap`).
CAP_PROBE_ROWS = 16


def surface_loss(loss):
    """``loss`` as the evaluator takes it: a callable as it is, a name canonical
    (:func:`lstheory._vocab.loss_name`: ``cross_entropy`` → ``cross-entropy``) and one of
    :data:`LOSSES`."""
    return loss if callable(loss) else loss_name(loss, "loss", allowed=LOSSES)


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


class PointEvaluator:
    """Evaluates a fixed model at coordinates along fixed directions; holds a private copy.

    Parameters
    ----------
    model : the centre ``θ₀`` (not modified; a copy is moved to ``device``/``dtype``).
    directions : one :class:`Direction` per coordinate axis.
    bn : one of :data:`BN_POLICIES` (:mod:`lstheory._vocab`; ``eval`` accepted for ``keep``).
        ``keep``: evaluate in eval mode with the running statistics the point carries — the
        centre's, or, for directions made with ``states=True``, the centre's moved along the
        direction (Li et al.'s evaluation). ``recompute``: at every point, first recompute every
        batch-norm layer's statistics on the training inputs (the cumulative average over
        batches of :func:`torch.optim.swa_utils.update_bn`), then evaluate in eval mode.
    loss : one of :data:`LOSSES` (``cross_entropy`` accepted for ``cross-entropy``), or a
        callable ``loss(outputs, targets)`` returning per-sample losses ``[n]`` (or their
        mean); a callable always takes the general route.
    batch_size : data rows per forward pass (memory grows with ``batch_size × points``).
    points_per_pass : an integer K, or ``"auto"``.
    max_memory : bytes the stacked activations of one pass may take (used to cap K).
    fast_path : use :class:`~lstheory.surface._fastpath.LinearChain` or
        :class:`~lstheory.surface._layerchain.LayerChain` where the model is such a chain;
        ``False`` forces the general route (for checking).
    precision : one of :data:`PRECISIONS`; ``"bfloat16"`` is off by default and trades the
        stated error :data:`BFLOAT16_LOSS_TOL` for speed on the fast routes.
    """

    def __init__(
        self,
        model: nn.Module,
        directions: Sequence[Direction],
        *,
        bn: str = "keep",
        loss: str = "cross-entropy",
        batch_size: int = 1024,
        points_per_pass: int | str = "auto",
        max_memory: int = 2 << 30,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        fast_path: bool = True,
        precision: str = "full",
    ):
        if precision not in PRECISIONS:
            raise UnknownName("precision", precision, PRECISIONS)
        bn, loss = bn_policy(bn), surface_loss(loss)
        positive_int(batch_size, "batch_size")
        if points_per_pass != "auto" and (
            isinstance(points_per_pass, bool)
            or not isinstance(points_per_pass, int)
            or points_per_pass < 1
        ):
            raise InvalidArgument(
                "points_per_pass", points_per_pass, "a positive integer or 'auto'"
            )
        if not directions:
            raise InvalidArgument("directions", directions, "one or more directions")
        self.device, self.dtype = torch.device(resolve_device(device, name="device")), dtype
        self.model = copy.deepcopy(model).to(self.device, dtype).eval()
        self.bn, self.loss_name, self.batch_size = bn, loss, batch_size
        self.points_per_pass, self.max_memory = points_per_pass, max_memory
        self.has_bn = has_batch_norm(self.model)
        self.params = {k: v.detach() for k, v in self.model.named_parameters()}
        self.buffers = {k: v.detach() for k, v in self.model.named_buffers()}
        self.dirs = [self._direction(d) for d in directions]
        self._moved_buffers = sorted({k for d in self.dirs for k in d if k in self.buffers})
        self._bn_modules = [
            m for m in self.model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
        ]
        self.chosen_k: int | None = None if points_per_pass == "auto" else points_per_pass
        self._trials: dict[int, float] = {}
        self._proposed: int | None = None
        self._warm = False
        # a user's loss(outputs, targets) takes the direct route: the fast routes know the names
        self.loss_fn = loss if callable(loss) else None
        self.loss_per_sample = True  # False once a callable loss returned only a mean
        fast_path = fast_path and self.loss_fn is None
        self.fast_path = fast_path
        self.precision = precision
        self._chain: ChainBase | None | bool = None if fast_path else False
        self._products: dict[int, tuple[torch.Tensor, list[torch.Tensor]]] = {}
        self._caps: dict[tuple, tuple[torch.Tensor, int]] = {}

    def __getstate__(self) -> dict:
        """Pickled without what a process builds for itself: the detected route (a chain holds
        :mod:`torch.fx` graph nodes, whose owning module does not pickle — Dask pickles a
        worker's evaluator when it spills or moves it), the cached first-layer products and
        memory caps; they are rebuilt on first use. What the tuning learned is kept."""
        state = self.__dict__.copy()
        if state["_chain"] is not False:
            state["_chain"] = None
        state["_products"], state["_caps"] = {}, {}
        return state

    # ---- parameters of a batch of points -------------------------------------------------
    def _direction(self, d: Direction) -> dict[str, torch.Tensor]:
        out = {}
        for k, t in d.tensors.items():
            ref = self.params.get(k, self.buffers.get(k))
            if ref is None:
                raise InvalidArgument("directions", k, "names of the model's parameters/buffers")
            if ref.shape != t.shape:
                raise InvalidArgument(
                    "directions", f"{k}{tuple(t.shape)}", f"shape {tuple(ref.shape)}"
                )
            if torch.count_nonzero(t):
                out[k] = t.detach().to(
                    self.device, self.dtype if ref.is_floating_point() else ref.dtype
                )
        return out

    def _stack(self, coords: torch.Tensor, base: dict, names) -> dict[str, torch.Tensor]:
        return stack_points(coords, base, names, self.dirs)

    def point_state(self, coord: Sequence[float]) -> dict[str, torch.Tensor]:
        """The state dict (parameters and buffers) of the model at ``coord`` — for checking."""
        c = torch.as_tensor(
            np.asarray(coord, dtype=np.float64), dtype=self.dtype, device=self.device
        ).view(1, -1)
        p = self._stack(c, self.params, self.params)
        b = self._stack(c, self.buffers, self.buffers)
        return {k: v[0].clone() for k, v in {**p, **b}.items()}

    # ---- the loss kernels (every route) -------------------------------------------------------
    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        k, b, c = logits.shape
        if self.loss_fn is not None:
            return self._custom_loss(logits, y)
        if self.loss_name == "cross-entropy":  # = F.cross_entropy, several times faster for C≈10
            picked = logits.gather(-1, y.expand(k, b)[..., None])[..., 0]
            return torch.logsumexp(logits, -1) - picked
        onehot = F.one_hot(y, c).to(logits.dtype)
        return (logits - onehot.unsqueeze(0)).pow(2).mean(-1)

    def _custom_loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``loss_fn(outputs[b, C], targets[b])`` point by point: per-sample losses ``[b]``, or
        a mean (a scalar), spread over the batch (then ``loss_per_sample`` turns False)."""
        rows = []
        for out in logits:
            v = torch.as_tensor(self.loss_fn(out, y), device=out.device)
            if v.ndim == 0:
                self.loss_per_sample = False
                v = v.expand(len(y))
            elif tuple(v.shape) != (len(y),):
                raise InvalidArgument("loss", tuple(v.shape), f"a loss returning per-sample "
                                      f"losses [{len(y)}] or their mean (a scalar)")
            rows.append(v.to(logits.dtype))
        return torch.stack(rows)

    @torch.no_grad()
    def evaluate(
        self,
        coords: np.ndarray,
        splits: Sequence[tuple[torch.Tensor, torch.Tensor]],
        *,
        bn_inputs: torch.Tensor | None = None,
    ) -> list[Totals]:
        """Totals on every ``(x, y)`` split for the points ``coords[K, n_directions]`` in one
        group of passes (K points at a time). ``bn_inputs`` are the inputs batch-norm statistics
        are recomputed on (``bn="recompute"``)."""
        coords = np.asarray(coords, dtype=np.float64).reshape(-1, len(self.dirs))
        c = torch.as_tensor(coords, dtype=self.dtype, device=self.device)
        if not (self.bn == "recompute" and self.has_bn) and use_chain(self, splits, c):
            return evaluate_chain(self, c, splits)
        return evaluate_vmap(self, c, splits, bn_inputs)

    # ---- the one loop callers run ---------------------------------------------------------
    def iter_chunks(
        self,
        coords: np.ndarray,
        splits: Sequence[tuple[torch.Tensor, torch.Tensor]],
        *,
        bn_inputs: torch.Tensor | None = None,
        cap_inputs: torch.Tensor | None = None,
    ) -> Iterator[tuple[np.ndarray, list[Totals]]]:
        """Evaluate every row of ``coords[N, n_directions]``, yielding ``(indices, totals)``
        per group of points as it finishes: ``indices`` the rows of ``coords`` the group holds,
        ``totals`` one :class:`Totals` per split (as :meth:`evaluate` returns them).

        The evaluator chooses the group sizes (``points_per_pass``: the ``"auto"`` tuning of
        :meth:`chunks` / :meth:`record`, capped by :meth:`memory_cap` on ``cap_inputs``,
        default the first split's inputs) and its route (the fast chains where the model is
        one, else batched ``vmap``); callers only store what comes back:

        >>> for idx, (train,) in ev.iter_chunks(points, [data.train]):   # doctest: +SKIP
        ...     loss[idx] = train.mean_loss()
        """
        import time

        coords = np.asarray(coords, dtype=np.float64).reshape(-1, len(self.dirs))
        if not splits:
            raise InvalidArgument("splits", splits, "one or more (inputs, targets) pairs")
        cap = self.memory_cap(splits[0][0] if cap_inputs is None else cap_inputs)
        start = 0
        for k in self.chunks(len(coords), cap):
            t0 = time.perf_counter()
            totals = self.evaluate(coords[start : start + k], splits, bn_inputs=bn_inputs)
            self.record(k, time.perf_counter() - t0)
            yield np.arange(start, start + k), totals
            start += k

    # ---- choosing K ----------------------------------------------------------------------
    def memory_cap(self, x_example: torch.Tensor) -> int:
        """The largest K whose stacked activations for one batch fit in ``max_memory`` (one
        forward pass per input tensor, remembered: a worker's units ask again each time). The
        pass runs on at most :data:`CAP_PROBE_ROWS` rows and the sizes are scaled to the batch
        (activations grow with the rows; a full batch of 1,438 digits through the DCNN took
        55 ms, several points' worth)."""
        key = (id(x_example), tuple(x_example.shape))
        hit = self._caps.get(key)
        if hit is not None and hit[0] is x_example:
            return hit[1]
        peak = [0]

        def hook(_m, _i, o):
            if torch.is_tensor(o):
                peak[0] = max(peak[0], o.numel() * o.element_size())

        hs = [m.register_forward_hook(hook) for m in self.model.modules() if not list(m.children())]
        rows = min(len(x_example), self.batch_size)
        probe = min(rows, CAP_PROBE_ROWS)
        try:
            with torch.no_grad():
                self.model(x_example[:probe].to(self.device, self.dtype))
        finally:
            for h in hs:
                h.remove()
        per_point = 4 * -(-max(peak[0], 1) * rows // probe)  # a few live activations, largest
        cap = max(1, min(256, self.max_memory // per_point))
        self._caps[key] = (x_example, cap)
        return cap

    def chunks(self, n_points: int, cap: int) -> Iterator[int]:
        """Sizes of successive groups of points. With ``"auto"``: 1, 2, 4, ... while the
        measured time per point keeps falling (see :meth:`record`), then the best size; on a
        fast route (which groups points itself), ``cap`` after the first."""
        done = 0
        while done < n_points:
            if self.chosen_k is not None:
                k = min(self.chosen_k, cap)
            elif self._warm and self._chain:
                k = cap  # a fast route groups points itself: nothing to tune
            elif not self._warm:
                k = 1  # warm-up group: not timed
            else:
                k = 1 if not self._trials else 2 * max(self._trials)
                if k > cap:
                    self.chosen_k = min(self._trials, key=self._trials.get)
                    k = min(self.chosen_k, cap)
            self._proposed = k
            k = min(k, n_points - done)
            yield k
            done += k

    def record(self, k: int, seconds: float) -> None:
        """Feed back the wall time of a group of ``k`` points (drives ``"auto"``)."""
        if not self._warm:
            self._warm = True
            return
        if self.chosen_k is not None or k in self._trials or k != self._proposed:
            return
        self._trials[k] = seconds / k
        best = min(self._trials, key=self._trials.get)
        if best != k:  # the larger group was slower: stop growing
            self.chosen_k = best
