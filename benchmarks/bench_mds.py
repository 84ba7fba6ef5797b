"""Benchmark: trajectory MDS from the store against scikit-learn's own route.

2,000 checkpoints of the 188,810-parameter DCNN (synthetic trajectories: 8 runs of random walks
with drift from the DCNN's initialisation, written to a float32 :class:`TrajectoryStore` on
disk), the paper's ``1 − cos`` dissimilarity over all parameters. Each repeat interleaves:

- **ours, end to end**: :func:`gram_matrix` from the store (float32 ``syrk`` blocks, float64
  accumulation), ``1 − cos`` from the Gram, :class:`ClassicalMDS` (Lanczos);
- **scikit-learn's route**: ``pairwise_distances(X, metric="cosine")`` on the stored matrix,
  then ``MDS(metric="precomputed")`` (SMACOF) — its MDS step is also timed alone;
- **the machine's matmul throughput** in float32 (a square ``torch`` matmul of 2,048), so the
  Gram's rate (``n² P`` flops executed by ``syrk``) is reported as a fraction of it.

Printed: per-repeat times, the ratios' median and spread (min–max), the Gram's maximum error
against the float64 Gram (relative to ``max |G|``) and the resulting ``1 − cos`` error, strain
and stress of the embeddings.

    .venv/bin/python benchmarks/bench_mds.py [--n 2000] [--repeats 3] [--threads 1]
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


def _matmul_rate(size: int = 2048, repeats: int = 3) -> float:
    """float32 matmul throughput (flop/s), best of ``repeats``."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best


def _spread(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"median {np.median(v):8.2f}  (min {v.min():.2f}, max {v.max():.2f}, {v.size} repeats)"


def main() -> None:
    from sklearn.manifold import MDS
    from sklearn.metrics import pairwise_distances

    from lstheory.mds import ClassicalMDS, dissimilarity_from_gram, gram_matrix, strain, stress

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
    args = ap.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)  # a script: the whole process, both routes alike
        torch.set_num_threads(args.threads)

    t = time.perf_counter()
    store = make_store(Path(args.dir), args.n, args.runs, args.seed)
    print(f"{store}  (written in {time.perf_counter() - t:.1f} s, seed {args.seed})")
    print(f"torch threads {torch.get_num_threads()}; machine load {os.getloadavg()}")
    n, p = len(store), store.n_parameters
    rows = {k: [] for k in ("gram", "ours", "sk_pd", "sk_mds", "ours_mds", "rate")}
    for r in range(args.repeats):
        rows["rate"].append(_matmul_rate())
        t = time.perf_counter()
        g = gram_matrix(store)
        rows["gram"].append(time.perf_counter() - t)
        t1 = time.perf_counter()
        d = dissimilarity_from_gram(g, "cosine")
        ours = ClassicalMDS(2, solver="lanczos").fit(d)
        rows["ours_mds"].append(time.perf_counter() - t1)
        rows["ours"].append(time.perf_counter() - t)

        t = time.perf_counter()
        d_sk = pairwise_distances(store.matrix(), metric="cosine")
        rows["sk_pd"].append(time.perf_counter() - t)
        t = time.perf_counter()
        sk = MDS(n_components=2, metric="precomputed", init="random", n_init=1,
                 random_state=args.seed)
        x_sk = sk.fit_transform(d_sk)
        rows["sk_mds"].append(time.perf_counter() - t)
        print(
            f"repeat {r}: ours {rows['ours'][-1]:.2f} s (Gram {rows['gram'][-1]:.2f}, MDS "
            f"{rows['ours_mds'][-1]:.3f}); sklearn {rows['sk_pd'][-1] + rows['sk_mds'][-1]:.2f} s "
            f"(pairwise_distances {rows['sk_pd'][-1]:.2f}, MDS {rows['sk_mds'][-1]:.2f}, "
            f"{sk.n_iter_} iterations); matmul {rows['rate'][-1] / 1e9:.1f} GFLOP/s",
            flush=True,
        )
    T = {k: np.asarray(v) for k, v in rows.items()}
    print("\nratios per repeat, interleaved in one run (machine shared and loaded):")
    print(f"  MDS step, sklearn MDS / ours (1 − cos → 2-D):   "
          f"{_spread(T['sk_mds'] / T['ours_mds'])}")
    print(f"  end to end, sklearn route / ours from the store: "
          f"{_spread((T['sk_pd'] + T['sk_mds']) / T['ours'])}")
    print(f"  Gram rate / float32 matmul rate (n²P flops):    "
          f"{_spread(n * n * p / T['gram'] / T['rate'])}")
    print(f"  Gram GFLOP/s executed: {_spread(n * n * p / T['gram'] / 1e9)}")

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
    for name, x in (("ours (lanczos)", ours.embedding_), ("sklearn", x_sk)):
        print(f"{name:>15}: strain {strain(d, x):.4f}   stress-1 {stress(d, x):.4f}")
    print(f"diagnostics: {ours.diagnostics_.message}")
    if not args.keep:
        shutil.rmtree(args.dir)


if __name__ == "__main__":
    main()
