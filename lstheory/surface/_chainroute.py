"""The fast routes' schedule: which chain a model is, data passes sized to the cache, threads.

:class:`~lstheory.surface.PointEvaluator` hands a group of points here where its model is a
chain (:mod:`._fastpath`'s :class:`LinearChain`, :mod:`._layerchain`'s :class:`LayerChain`) or a
layer graph (:mod:`._layergraph`): the first-layer products of each cache-sized batch of data are
computed once and kept, every point of the group is evaluated on every batch, and on a CPU the
batches are shared among threads, each running single-threaded. The functions take the
evaluator (its model, centre, directions, settings, loss kernels and caches), as
:mod:`._vmaproute` does for the general route.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F

from .._runtime import limit_threads
from ..data import batches
from ._fastpath import ChainBase, LinearChain
from ._layerchain import LayerChain
from ._layergraph import LayerGraph
from ._totals import Totals
from ._windowchain import WindowChain

__all__ = [
    "balanced_rows",
    "evaluate_chain",
    "first_products",
    "loss_rows",
    "rows_for",
    "use_chain",
    "workers",
]

#: Bytes of first-layer output (all directions) per pass of the layer-chain route on a CPU:
#: the per-point passes re-read it, so it should stay in the last-level cache.
CACHE_BYTES = 8 << 20
#: The same for the linear-chain route, whose passes are cheap enough per sample that a pass
#: can stay in cache through every layer: 1 MiB (the L2 of one core here; 800 samples of the MLP
#: 40-100-100-10 with two directions) with :data:`GROUP_BYTES` 2 MiB (6 points per call) took
#: 0.337 s CPU for 256 points on 4,000 samples against 0.351 at 512 KiB / 1 MiB (400 samples,
#: 6 points), 0.346 at 512 KiB / 1.25 MiB and 0.344 at 512 KiB / 1.5 MiB (medians of 13
#: interleaved runs, one thread, loaded machine; before passes were balanced, 512 KiB had beaten
#: 8 MiB, 1 MiB and 256 KiB). Not for layer chains: a DCNN sample's first-layer output alone is
#: ~300 KB.
LINEAR_CACHE_BYTES = 1 << 20
#: Bytes of the widest activation of the points that one batched matmul of the fast route takes
#: together (several points per call only for small models; see :data:`LINEAR_CACHE_BYTES`).
GROUP_BYTES = 2 << 20
#: Rows per pass are rounded up to a multiple of this where they stay within the cap: the
#: matmul kernels run their full-width tiles on such sizes (the 100 × 100 layer of
#: bench_surface's MLP ran 8.0 MFLOP in 82 µs on 400 samples, 98 GFLOP/s, against 93 GFLOP/s on 436;
#: best of 25 runs of 20 calls, one thread).
ROW_MULTIPLE = 16
#: Entries of first-layer output per worker below which the fast route runs in one thread.
PARALLEL_ELEMENTS = 1 << 17


def _single_threaded():
    """One torch thread inside (the fast route's workers are the parallelism); restored after
    (:func:`lstheory._runtime.limit_threads`; entered once around the pool, not per worker)."""
    return limit_threads(1)


def _serial(ev):
    """One torch thread for the work before and between the pools (per-point weights, first-layer
    products): the per-point passes are the parallel part. With two intra-op threads on a loaded
    machine the thread whose partner is descheduled spins at every barrier of these small ops.
    bench_surface's MLP (51 × 51 points, two threads, load 6 on two cores, 10 interleaved
    repeats): the main thread and its OpenMP partner took 0.26–1.30 CPU-s of 4.3–5.5 before,
    0.06–0.27 after (the pool's workers 3.7–4.5 in both); total CPU median 4.61 → 4.47 and
    4.39 → 3.87 s in two runs. Restored after, as :func:`_single_threaded`."""
    return limit_threads(1, when=ev.device.type == "cpu")


def use_chain(ev, splits, c: torch.Tensor) -> bool:
    if ev._chain is None:
        x0 = splits[0][0][: min(8, len(splits[0][0]))].to(ev.device, ev.dtype)
        args = (ev.model, ev.params, ev.buffers, ev.dirs, x0)
        chain = LinearChain.detect(*args) or (
            (LayerChain.detect(*args) or LayerGraph.detect(*args)) if ev.bn == "keep" else None
        )
        if isinstance(chain, LayerChain):
            rows = rows_for(ev, chain, len(splits[0][0]))
            xb = splits[0][0][:rows].to(ev.device, ev.dtype)
            chain.choose_first_layer(xb, c)
            window = WindowChain.detect(chain, ev.model, x0)
            if window is not None and ev.precision == "bfloat16":  # compared as they will run
                window.hidden_dtype = chain.hidden_dtype = torch.bfloat16
            if window is not None and window.faster(chain, xb, c):
                chain = window
        if chain and ev.precision == "bfloat16":
            chain.hidden_dtype = torch.bfloat16
        ev._chain = chain or False
    if not ev._chain:
        return False
    size = ev._chain.product_bytes(sum(len(x) for x, _ in splits))
    return size <= ev.max_memory // 2


def workers(ev, chain: ChainBase, n: int) -> int:
    """Threads of the fast route over ``n`` samples: on a CPU, up to one per torch thread,
    each running its share of the data passes single-threaded — where a share's first-layer
    output has at least :data:`PARALLEL_ELEMENTS` entries (below that, the per-operation
    overhead of the threads costs more than they save)."""
    if ev.device.type != "cpu":
        return 1
    per_sample = chain.product_bytes(1) // (4 * (1 + len(ev.dirs)))
    k = torch.get_num_threads()
    while k > 1 and (n // k) * per_sample < PARALLEL_ELEMENTS:
        k -= 1
    return k


def rows_for(ev, chain: ChainBase, n: int) -> int:
    """Data rows per pass of the fast route over ``n`` samples: ``batch_size``, or fewer
    where the first layer's output of a batch would not stay in cache
    (:data:`CACHE_BYTES`) on a CPU — every point re-reads it, so a cache-sized batch is
    several times faster there — in passes shared evenly by the workers
    (:func:`balanced_rows`)."""
    if ev.device.type != "cpu":
        return ev.batch_size
    budget = LINEAR_CACHE_BYTES if isinstance(chain, LinearChain) else CACHE_BYTES
    cap = min(ev.batch_size, budget // chain.product_bytes(1))
    return balanced_rows(n, workers(ev, chain, n), cap)


def balanced_rows(n: int, share: int, cap: int) -> int:
    """Rows per pass for ``n`` samples, ``share`` workers and at most ``cap`` rows a pass:
    the fewest passes that are a multiple of ``share`` (each worker takes every share-th
    pass), all of one size but the last, rounded up to a multiple of :data:`ROW_MULTIPLE`
    where that stays within ``cap`` and moves at most 1/32 of the samples out of the
    last pass. (Without it 4,000 samples ran as 9 × 436 + 76, two workers taking 2,180 and
    1,820.)"""
    cap = max(1, cap)
    passes = share * -(-n // (share * cap))
    rows = -(-n // passes)
    up = -(-rows // ROW_MULTIPLE) * ROW_MULTIPLE
    return up if up <= cap and (up - rows) * passes * 32 <= n else rows


def first_products(ev, x: torch.Tensor) -> list[torch.Tensor]:
    """The chain's first-layer products for every batch of ``x``, cached per tensor."""
    rows = rows_for(ev, ev._chain, len(x))
    hit = ev._products.get(id(x))
    if hit is None or hit[0] is not x or hit[1] != rows:
        with _serial(ev):
            prods = [
                ev._chain.first_products(xb.to(ev.device, ev.dtype))
                for xb, _ in batches(x, x.new_zeros(len(x)), rows)
            ]
        hit = ev._products[id(x)] = (x, rows, prods)
    return hit[2]


def loss_rows(
    chain: ChainBase, name: str, z: torch.Tensor, y: torch.Tensor, loss, ok, index=None
) -> None:
    """Per-sample losses and correctness of transposed logits ``z[K, C, n]`` written into
    ``loss`` and ``ok`` (bool), each ``[K, n]`` or ``[K, 1, n]``, in the chain's scratch
    buffers (no allocation); ``index``: ``y.expand(K, 1, n)`` where the caller keeps it.

    The values: cross-entropy ``−log_softmax(z)_y``
    (``top + log Σ_c exp(z_c − top) − z_y``, ``top`` the largest logit), or the ``mse``
    ``mean_c (z_c − onehot(y)_c)²``; correct means ``y`` is the first index of the maximum
    (``argmax``'s convention, also on ties). The class axis is the short, strided one:
    ``log_softmax`` over it took 18 µs for ``[6, 10, 436]`` on one core, against 33 µs for
    the same max/exp/sum/log spelled out and 48 µs for ``logsumexp``; ``max`` with indices
    27 µs against 318 µs for ``argmax`` (and ``amax`` plus an exact first-index test for
    ties, 8 µs a point against 4.5 for ``max``). Every view is a kept one: a torch call
    costs microseconds, and this runs once per group of points and pass.
    """
    k, c, n = z.shape
    buf = chain._buffer
    top = buf(("loss", "top"), (k, 1, n), z)
    first = buf(("loss", "first"), (k, 1, n), y)
    torch.max(z, 1, keepdim=True, out=(top, first))
    torch.eq(first if ok.dim() == 3 else buf(("loss", "first"), (k, n), y), y, out=ok)
    scratch = buf(("loss", "z"), (k, c, n), z)
    if name == "cross-entropy":
        logp = torch.log_softmax(z, 1, out=scratch)
        picked = buf(("loss", "picked"), (k, 1, n), z)
        index = y.expand(k, 1, n) if index is None else index
        torch.gather(logp, 1, index, out=picked)
        torch.neg(picked if loss.dim() == 3 else buf(("loss", "picked"), (k, n), z), out=loss)
        return
    onehot = F.one_hot(y, c).to(z.dtype).T
    torch.mean(torch.sub(z, onehot, out=scratch).pow_(2), 1, out=loss.view(k, n))


def evaluate_chain(ev, c: torch.Tensor, splits) -> list[Totals]:
    chain = ev._chain
    step = max(1, min(len(c), (64 << 20) // chain.point_bytes()))
    with _serial(ev):
        groups = [(g, chain.points(c[g : g + step])) for g in range(0, len(c), step)]

    linear = isinstance(chain, LinearChain)
    plans: dict[int, list] = {}  # samples per pass -> the calls of a pass (slices made once)

    def plan(n: int) -> list:
        if n not in plans:
            size = chain.group_size(n, GROUP_BYTES)
            calls = []
            for g, pts in groups:
                if linear:
                    for lo, hi, coef, layers in chain.calls(pts, size):
                        calls.append((slice(g + lo, g + hi), (pts, coef, layers)))
                else:
                    for lo in range(0, len(pts[0]), size):
                        hi = min(lo + size, len(pts[0]))
                        calls.append((slice(g + lo, g + hi), (pts, lo, hi)))
            plans[n] = calls
        return plans[n]

    def run(passes) -> tuple[torch.Tensor, int]:
        sums, n = torch.zeros(3, c.shape[0], dtype=torch.float64), 0
        for prods, yb in passes:
            yb = yb.to(ev.device)
            shape = (len(c), 1, len(yb))
            loss = chain._buffer(("loss", "rows"), shape, c)
            ok = chain._buffer(("loss", "ok"), shape, c, torch.bool)
            index: dict[int, torch.Tensor] = {}  # y.expand(k, 1, n) for the group sizes
            flat = prods.view(len(prods), -1) if linear else prods
            for rows, args in plan(len(yb)):
                k = rows.stop - rows.start
                if linear:
                    z = chain.forward(flat, args[1], args[2], prods.shape[1])
                else:
                    z = chain.logits_t(prods, *args)
                if k not in index:
                    index[k] = yb.expand(k, 1, len(yb))
                loss_rows(chain, ev.loss_name, z, yb, loss[rows], ok[rows], index[k])
            loss, ok = loss.view(shape[0], -1), ok.view(shape[0], -1)
            # float64 sums, through a kept buffer: a fresh one per pass (800 KB for 256 points
            # of 400 samples) was served by mmap and cost its page faults every pass
            wide = chain._buffer(("loss", "wide"), loss.shape, c, torch.float64).copy_(loss)
            sums[0] += wide.sum(1)
            sums[1] += wide.pow_(2).sum(1)
            sums[2] += ok.sum(1)
            n += len(yb)
        return sums, n

    out = []
    for x, y in splits:
        rows = rows_for(ev, chain, len(x))
        passes = [(p, yb) for p, (_, yb) in zip(first_products(ev, x), batches(x, y, rows))]
        k = min(workers(ev, chain, len(x)), len(passes))
        if k > 1:
            with _single_threaded(), ThreadPoolExecutor(k) as pool:
                parts = list(pool.map(run, [passes[i::k] for i in range(k)]))
        else:
            parts = [run(passes)]
        tot = Totals.zeros(c.shape[0])
        sums = sum(p[0] for p in parts)
        tot.n = sum(p[1] for p in parts)
        tot.loss, tot.loss_sq, tot.correct = (v.numpy() for v in sums)
        out.append(tot)
    return out
