"""Benchmark: trajectory MDS from the store against scikit-learn's own route.

2,000 checkpoints of the 188,810-parameter DCNN (synthetic trajectories: 8 runs of random walks
with drift from the DCNN's initialisation, written to a float32 :class:`TrajectoryStore` on
disk), the paper's ``1 − cos`` dissimilarity over all parameters. Each repeat interleaves:

- **ours, end to end**: :func:`gram_matrix` from the store (float32 ``syrk`` blocks, float64
  accumulation), ``1 − cos`` from the Gram, :class:`ClassicalMDS` (Lanczos);
- **scikit-learn's route**: ``pairwise_distances(X, metric="cosine")`` on the stored matrix,
  then ``MDS(metric="precomputed")`` (SMACOF) — its MDS step is also timed alone;
- **ours in bfloat16** (``precision="bfloat16"``): the same from a bfloat16 Gram (centred
  blocks, the upper triangle by halvings, float64 across blocks), with its stated bound;
- **ours, matrix-free, end to end** (:class:`KrylovMDS`, the default embedding of
  ``embed_store``: classical MDS of the squared distances ``2(1 − cos)`` of the unit vectors,
  i.e. their principal components, by block Krylov passes over the store; no Gram): its
  Procrustes disparity is printed against the Gram route's embedding of the *same* objective
  (``ClassicalMDS(squared=True)`` on ``2(1 − cos)`` from the float32 Gram). scikit-learn's
  SMACOF minimises another objective (stress on ``1 − cos``): that ratio compares two routes
  from the same store to a 2-D embedding of the same data, not two solvers of one problem;
- **the machine's float32 and bfloat16 matmul rates**: a square matmul of 2,048, the faster
  of numpy's (OpenBLAS) and torch's for float32, torch's for bfloat16; the Gram's rate
  (``n² P`` flops, what ``syrk`` executes) is reported as a fraction of the float32 one.

After the repeats: where the time goes (one read of the store alone; Gram; the ``n × n``
passes of 1 − cos and centring; the eigensolver), the float32 and bfloat16 Grams' errors
against the float64 Gram, the bfloat16 bound, and the Procrustes disparity of the bfloat16
embedding against the float32 one.

Every step is timed twice: wall clock and the process's CPU-seconds (``time.process_time``,
all threads). Both routes run under the same ``threadpoolctl`` limit (``--threads``, default 1),
and the CPU/wall ratio of each step is printed as the evidence that it held. On a shared
machine the CPU-second ratios are the ones that mean something (a single-threaded step's
CPU-seconds hardly depend on the load; its wall time does).

Printed: per-repeat times, the ratios' median and spread (min–max), the Gram's maximum error
against the float64 Gram (relative to ``max |G|``) and the resulting ``1 − cos`` error, strain
and stress of the embeddings, and the bound a ``syrk``-bound Gram puts on the end-to-end ratio.

Note: ``pairwise_distances(metric="cosine")`` computes ``X̂ X̂ᵀ`` with numpy's ``@``, which
numpy itself hands to BLAS ``syrk`` (a matrix times its own transpose): scikit-learn's route
executes the same ``n² P`` flops, in one call, as our Gram — both are ``syrk``-bound.

    .venv/bin/python benchmarks/bench_mds.py [--n 2000] [--repeats 3] [--threads 1] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch


def make_store(path: Path, n: int, runs: int, seed: int):
    from lstheory.mds import TrajectoryStore
    from lstheory.models import build_model, count_parameters

    net = build_model("dcnn", seed=seed)
    assert count_parameters(net) == 188_810
    store = TrajectoryStore.create(
        path, net, overwrite=True, attrs={"seed": seed, "synthetic": True}
    )
    rng = np.random.default_rng(seed)
    theta0 = {k: p.detach().numpy().astype(np.float64) for k, p in net.named_parameters()}
    per_run = n // runs
    for r in range(runs):
        theta = {k: v + 0.05 * v.std() * rng.standard_normal(v.shape) for k, v in theta0.items()}
        drift = {k: 0.002 * v.std() * rng.standard_normal(v.shape) for k, v in theta0.items()}
        for e in range(per_run if r < runs - 1 else n - per_run * (runs - 1)):
            store.append(theta, run=r, epoch=e)
            theta = {
                k: v + drift[k] + 0.002 * theta0[k].std() * rng.standard_normal(v.shape)
                for k, v in theta.items()
            }
    return store


def _matmul_rate(size: int = 2048, repeats: int = 3) -> tuple[float, float]:
    """float32 matmul rate (flop/s) of the faster of numpy and torch, best of ``repeats``:
    ``(per wall second, per CPU-second)``."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    an, bn = a.numpy(), b.numpy()
    best_w = best_c = float("inf")
    for _ in range(repeats):
        for f in (lambda: a @ b, lambda: an @ bn):
            t, c = time.perf_counter(), time.process_time()
            f()
            best_w = min(best_w, time.perf_counter() - t)
            best_c = min(best_c, time.process_time() - c)
    return 2 * size**3 / best_w, 2 * size**3 / best_c


def _bf16_rate(size: int = 2048, repeats: int = 3) -> float:
    """torch's bfloat16 matmul rate (flop per CPU-second), best of ``repeats``."""
    a, b = torch.randn(size, size).bfloat16(), torch.randn(size, size).bfloat16()
    best = float("inf")
    for _ in range(repeats):
        c = time.process_time()
        a @ b
        best = min(best, time.process_time() - c)
    return 2 * size**3 / best


def _split(store, g, d) -> dict:
    """CPU-seconds of: one read of the store alone (column blocks summed), the 1 − cos pass,
    the centring passes of classical MDS, its eigensolver."""
    from lstheory.mds import _classical as C
    from lstheory.mds import dissimilarity_from_gram

    out = {}
    mat, t = store.matrix(), time.process_time()
    for c0 in range(0, mat.shape[1], 8192):
        mat[:, c0 : c0 + 8192].sum(axis=0, dtype=np.float32)
    out["read"] = time.process_time() - t
    t = time.process_time()
    dissimilarity_from_gram(g, "cosine")
    out["1 − cos"] = time.process_time() - t
    t = time.process_time()
    v = C._checked(d)
    rows, cols = C._squared_sums(v, False)
    b = C._centred(v, rows, cols, False, C._check_values(v, rows))
    out["centre"] = time.process_time() - t
    t = time.process_time()
    C._lanczos(b, 2, 5, 1e-10)
    out["eigensolver"] = time.process_time() - t
    return out


class _Clock:
    """Wall and CPU seconds of a block, appended to ``rows[name]`` and ``rows[name + '_cpu']``."""

    def __init__(self, rows: dict, name: str):
        self.rows, self.name = rows, name

    def __enter__(self):
        self.t, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.rows.setdefault(self.name, []).append(time.perf_counter() - self.t)
        self.rows.setdefault(self.name + "_cpu", []).append(time.process_time() - self.c)


def _spread(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"median {np.median(v):8.2f}  (min {v.min():.2f}, max {v.max():.2f}, {v.size} repeats)"


def main() -> None:
    from sklearn.manifold import MDS
    from sklearn.metrics import pairwise_distances

    from lstheory.mds import (
        ClassicalMDS,
        KrylovMDS,
        dissimilarity_from_gram,
        gram_matrix,
        strain,
        stress,
    )

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--dir", default="/tmp/bench_mds")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and torch threads for both routes (default 1: under load the "
                         "fastest; 0 leaves the pools as they are)")
    ap.add_argument("--skip-f64", action="store_true", help="skip the float64 Gram (error check)")
    ap.add_argument("--keep", action="store_true", help="keep the store on disk")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the store at --dir when it holds --n checkpoints (implies --keep)")
    args = ap.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)  # a script: the whole process, both routes alike
        torch.set_num_threads(args.threads)

    t = time.perf_counter()
    from lstheory.mds import TrajectoryStore

    reuse = args.reuse and (Path(args.dir) / "manifest.json").is_file()
    store = TrajectoryStore.open(args.dir) if reuse else None
    if store is None or len(store) != args.n:
        store = make_store(Path(args.dir), args.n, args.runs, args.seed)
    args.keep = args.keep or args.reuse
    print(f"{store}  (ready in {time.perf_counter() - t:.1f} s, seed {args.seed})")
    print(f"torch threads {torch.get_num_threads()}; machine load {os.getloadavg()}")
    n, p = len(store), store.n_parameters
    if args.threads:
        from threadpoolctl import threadpool_info

        pools = {Path(i["filepath"]).name: i["num_threads"] for i in threadpool_info()}
        print(f"thread pools held to {args.threads}: {pools}")
    rows: dict[str, list] = {}
    for r in range(args.repeats):
        rate_w, rate_c = _matmul_rate()
        rows.setdefault("rate", []).append(rate_w)
        rows.setdefault("rate_cpu", []).append(rate_c)
        rows.setdefault("rate16_cpu", []).append(_bf16_rate())
        with _Clock(rows, "bf16"):
            with _Clock(rows, "gram16"):
                g16, err16 = gram_matrix(store, precision="bfloat16", return_error=True)
            d16 = dissimilarity_from_gram(g16, "cosine")
            ours16 = ClassicalMDS(2, solver="lanczos").fit(d16)
        with _Clock(rows, "ours"):
            with _Clock(rows, "gram"):
                g = gram_matrix(store)
            with _Clock(rows, "ours_mds"):
                d = dissimilarity_from_gram(g, "cosine")
                ours = ClassicalMDS(2, solver="lanczos").fit(d)
        with _Clock(rows, "mf"):
            mf = KrylovMDS(2).fit(store)  # the matrix-free route: passes over the store
        with _Clock(rows, "sk_pd"):
            d_sk = pairwise_distances(store.matrix(), metric="cosine")
        with _Clock(rows, "sk_mds"):
            sk = MDS(n_components=2, metric="precomputed", init="random", n_init=1,
                     random_state=args.seed)
            x_sk = sk.fit_transform(d_sk)
        R = {k: v[-1] for k, v in rows.items()}
        print(
            f"repeat {r} (wall s / CPU s): ours {R['ours']:.2f}/{R['ours_cpu']:.2f} (Gram "
            f"{R['gram']:.2f}/{R['gram_cpu']:.2f}, MDS {R['ours_mds']:.3f}/{R['ours_mds_cpu']:.3f})"
            f"; sklearn pairwise_distances {R['sk_pd']:.2f}/{R['sk_pd_cpu']:.2f}, MDS "
            f"{R['sk_mds']:.2f}/{R['sk_mds_cpu']:.2f} ({sk.n_iter_} iterations); bfloat16 "
            f"{R['bf16']:.2f}/{R['bf16_cpu']:.2f} (Gram {R['gram16']:.2f}/{R['gram16_cpu']:.2f})"
            f"; matrix-free {R['mf']:.2f}/{R['mf_cpu']:.2f} ({mf.certificate_.passes} passes)"
            f"; matmul "
            f"{R['rate'] / 1e9:.1f} GFLOP/s wall, {R['rate_cpu'] / 1e9:.1f} per CPU-s; load "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
    T = {k: np.asarray(v) for k, v in rows.items()}
    for clock, sfx in (("CPU-seconds (robust to load)", "_cpu"), ("wall clock", "")):
        t = {k: T[k + sfx] for k in ("ours", "gram", "ours_mds", "sk_pd", "sk_mds", "rate",
                                     "bf16", "gram16", "mf")}
        print(f"\nratios per repeat by {clock}, interleaved in one run:")
        print(f"  MDS step, sklearn MDS / ours (1 − cos → 2-D):   "
              f"{_spread(t['sk_mds'] / t['ours_mds'])}")
        print(f"  end to end, sklearn route / ours from the store: "
              f"{_spread((t['sk_pd'] + t['sk_mds']) / t['ours'])}")
        print(f"  end to end, sklearn route / ours in bfloat16:    "
              f"{_spread((t['sk_pd'] + t['sk_mds']) / t['bf16'])}")
        print(f"  end to end, sklearn route / ours matrix-free:    "
              f"{_spread((t['sk_pd'] + t['sk_mds']) / t['mf'])}  (2(1 − cos), squared; "
              "SMACOF: stress on 1 − cos)")
        print(f"  bfloat16 Gram / float32 Gram (time):             "
              f"{_spread(t['gram16'] / t['gram'])}")
        print(f"  Gram rate / float32 matmul rate (n²P flops):    "
              f"{_spread(n * n * p / t['gram'] / t['rate'])}")
        print(f"  Gram GFLOP/s executed:                           "
              f"{_spread(n * n * p / t['gram'] / 1e9)}")
        print(f"  sklearn pairwise_distances / our Gram (both syrk): "
              f"{_spread(t['sk_pd'] / t['gram'])}")
    c = {k: float(np.median(T[k + "_cpu"])) for k in ("sk_pd", "sk_mds", "ours_mds", "rate")}
    floor = n * n * p / c["rate"]  # the Gram's n²P flops at the full matmul rate
    print(f"\nbound: a Gram at 100 % of the matmul rate takes {floor:.2f} CPU-s, so the end-to-"
          f"end ratio cannot exceed ({c['sk_pd']:.2f} + {c['sk_mds']:.2f}) / ({floor:.2f} + "
          f"{c['ours_mds']:.3f}) = {(c['sk_pd'] + c['sk_mds']) / (floor + c['ours_mds']):.2f}× "
          "on this machine in float32")
    r16 = float(np.median(T["rate16_cpu"]))
    from lstheory.mds._bf16 import _HALVINGS

    share = 0.5 + 0.5**(_HALVINGS + 1)  # of the full product's flops, for the upper triangle
    floor16 = share * 2 * n * n * p / r16
    print(f"bfloat16: the upper triangle's flops ({100 * share:.1f} % of the full product's) "
          f"at the bfloat16 matmul rate "
          f"({r16 / 1e9:.0f} GFLOP/s per CPU-s) take {floor16:.2f} CPU-s, so its end-to-end "
          f"ratio cannot exceed {(c['sk_pd'] + c['sk_mds']) / (floor16 + c['ours_mds']):.2f}×")
    split = _split(store, g, d)
    print("time split, CPU-s (one run after the repeats): " + ", ".join(
        f"{k} {v:.3f}" for k, v in split.items()) + f"; Gram float32 "
        f"{np.median(T['gram_cpu']):.2f}, bfloat16 {np.median(T['gram16_cpu']):.2f} (medians)")
    print("CPU/wall per step (1.0 = one busy thread; < 1 = waiting for a core): " + ", ".join(
        f"{k} {np.median(T[k + '_cpu'] / T[k]):.2f}"
        for k in ("gram", "ours_mds", "sk_pd", "sk_mds")))

    if not args.skip_f64:
        t = time.perf_counter()
        g64 = gram_matrix(store, dtype=torch.float64)
        t64 = time.perf_counter() - t
        d64 = dissimilarity_from_gram(g64, "cosine")
        off = ~np.eye(n, dtype=bool)
        print(f"\nfloat64 Gram {t64:.2f} s; float32-block Gram error: max |ΔG|/max|G| "
              f"{np.abs(g - g64).max() / np.abs(g64).max():.2e}; max |Δ(1 − cos)| "
              f"{np.abs(d - d64).max():.2e} (smallest 1 − cos {d64[off].min():.2e}); "
              f"sklearn's float32 route: max |Δ(1 − cos)| {np.abs(d_sk - d64).max():.2e}")
        e16, bound = np.abs(d16 - d64), err16.cosine_bound()
        print(f"bfloat16 Gram: max |Δ(1 − cos)| {e16.max():.2e} (median over pairs "
              f"{np.median(e16[off]):.2e}); stated bound: max {bound.max():.2e}, median "
              f"{np.median(bound[off]):.2e}; measured/bound at most "
              f"{(e16[off] / bound[off]).max():.3f}; entries over the bound: "
              f"{int((e16 > bound).sum())}; max ‖z_i‖/‖x_i‖ "
              f"{(err16.centred_norms / err16.norms).max():.3f}")
    from lstheory.mds import procrustes_align

    pr = procrustes_align(ours.embedding_, ours16.embedding_, scaling=False)
    print(f"bfloat16 embedding against the float32 one: Procrustes disparity {pr.disparity:.2e}, "
          f"largest point error {np.abs(pr.aligned - ours.embedding_).max():.2e} "
          f"(extent {np.ptp(ours.embedding_, axis=0).max():.3g})")
    for name, x in (("ours (lanczos)", ours.embedding_), ("sklearn", x_sk)):
        print(f"{name:>15}: strain {strain(d, x):.4f}   stress-1 {stress(d, x):.4f}")
    print(f"diagnostics: {ours.diagnostics_.message}")
    same = ClassicalMDS(2, squared=True, solver="lanczos").fit(2.0 * d)  # Gram route, same B
    pm = procrustes_align(same.embedding_, mf.embedding_, scaling=False)
    print(f"\nmatrix-free against the Gram route's embedding of the same objective (classical "
          f"MDS of 2(1 − cos), squared=True, float32 Gram): Procrustes disparity "
          f"{pm.disparity:.2e}, largest point error "
          f"{np.abs(pm.aligned - same.embedding_).max():.2e} (extent "
          f"{np.ptp(same.embedding_, axis=0).max():.3g}); top eigenvalues "
          f"{mf.eigenvalues_[:2]} against {same.eigenvalues_[:2]}")
    print(f"matrix-free: {mf.certificate_.message}")
    print(f"matrix-free: {mf.certificate_.passes} reads of the store; one read alone "
          f"{split['read']:.3f} CPU-s. Note: sklearn's SMACOF minimises a different objective "
          "(stress on 1 − cos taken as a distance); the end-to-end ratio compares the two "
          "routes from the store to a 2-D embedding of the same data")
    if not args.keep:
        shutil.rmtree(args.dir)


if __name__ == "__main__":
    main()
