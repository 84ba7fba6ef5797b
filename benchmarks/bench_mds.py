"""Benchmark: streaming Gram + classical MDS against scikit-learn's ``MDS`` (SMACOF).

2,000 checkpoints of the 188,810-parameter DCNN (synthetic trajectories: 8 runs of random walks
with drift from the DCNN's initialisation, written to a :class:`TrajectoryStore` on disk), the
paper's ``1 − cos`` dissimilarity over all parameters. Prints:

- the time of the streaming Gram matrix, of classical MDS from the dissimilarities, and of
  scikit-learn's ``MDS(metric="precomputed")`` on the *same* dissimilarity matrix;
- the time ratio sklearn / ours, with and without the Gram pass (which sklearn does not do:
  it is handed the finished matrix);
- the normalised strain ``‖B − XXᵀ‖/‖B‖`` and Kruskal stress-1 of both embeddings.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_mds.py [--n 2000] [--dir /tmp/bench_mds]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    from sklearn.manifold import MDS

    from lstheory.mds import ClassicalMDS, dissimilarity_from_gram, gram_matrix, strain, stress

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--dir", default="/tmp/bench_mds")
    ap.add_argument("--block", type=int, default=500)
    ap.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the store on disk")
    args = ap.parse_args()

    t = time.perf_counter()
    store = make_store(Path(args.dir), args.n, args.runs, args.seed)
    print(f"{store}  (written in {time.perf_counter() - t:.1f} s, seed {args.seed})")

    t = time.perf_counter()
    g = gram_matrix(store, block_size=args.block, dtype=getattr(torch, args.dtype))
    t_gram = time.perf_counter() - t
    d = dissimilarity_from_gram(g, "cosine")
    t = time.perf_counter()
    ours = ClassicalMDS(2).fit(d)
    t_cmds = time.perf_counter() - t
    t = time.perf_counter()
    lanczos = ClassicalMDS(2, solver="lanczos").fit(d)
    t_lz = time.perf_counter() - t

    t = time.perf_counter()
    sk = MDS(n_components=2, metric="precomputed", init="random", n_init=1, random_state=args.seed)
    x_sk = sk.fit_transform(d)
    t_sk = time.perf_counter() - t

    print(f"streaming Gram ({args.dtype}, block {args.block}): {t_gram:8.2f} s")
    print(
        f"classical MDS from dissimilarities:    {t_cmds:8.2f} s   "
        f"({ours.diagnostics_.n_negative} negative eigenvalues, "
        f"{100 * ours.diagnostics_.negative_mass:.2f}% of |spectrum|)"
    )
    print(f"classical MDS, Lanczos (top-2 + 5 most negative): {t_lz:8.2f} s")
    print(f"scikit-learn MDS (SMACOF, {sk.n_iter_} iterations): {t_sk:8.2f} s")
    print(f"time ratio sklearn / classical MDS:            {t_sk / t_cmds:8.1f}x")
    print(f"time ratio sklearn / classical MDS (Lanczos):  {t_sk / t_lz:8.1f}x")
    print(f"time ratio sklearn / (Gram + classical MDS):   {t_sk / (t_gram + t_cmds):8.2f}x")
    for name, x in (
        ("classical", ours.embedding_),
        ("lanczos", lanczos.embedding_),
        ("sklearn", x_sk),
    ):
        print(f"{name:>10}: strain {strain(d, x):.4f}   stress-1 {stress(d, x):.4f}")
    if not args.keep:
        shutil.rmtree(args.dir)


if __name__ == "__main__":
    main()
