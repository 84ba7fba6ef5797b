"""Path-engine benchmarks (plain script: prints ratios; not part of the test run).

1. The batched string method against the same method run pair by pair on the same pairs
   (anchor: the loop over pairs), on a two-layer ReLU teacher problem and a deep linear net.
2. Dynamic String Sampling against the string method: loss evaluations needed to *certify* a
   path below the level λ = max(L_A, L_B) + ε · mean y² (the string method is rerun with
   doubling step counts until its certificate is below λ).

    .venv/bin/python benchmarks/bench_paths.py [--pairs 32] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lstheory.claims._connectivity import pairs, starts
from lstheory.claims.freeman_bruna import linear_instance
from lstheory.nets import deep_linear, minimize, two_layer
from lstheory.paths import StringOptions, certify_paths, connect, string_method


def _problems(n_pairs: int):
    g = torch.Generator().manual_seed(0)
    relu = two_layer(2, 16, 1, "relu", bias=True)
    X = torch.randn(128, 2, generator=g, dtype=torch.float64)
    Y = torch.relu(X @ torch.randn(2, 3, generator=g, dtype=torch.float64)) @ torch.ones(3, 1,
                                                                                         dtype=X.dtype)
    lin = deep_linear([3, 4, 4, 2])
    Xl, Yl = linear_instance([3, 4, 4, 2], "gaussian", 20, 0)
    out = []
    for name, fam, data in (("relu 2-16-1, N=128", relu, (X, Y)),
                            ("linear 3-4-4-2, N=20", lin, (Xl, Yl))):
        k = 8
        res = minimize(fam, data, starts(fam, k, 0, "cpu"), options="fast")
        prs = pairs(k, n_pairs, 0)
        while len(prs) < n_pairs:
            prs = prs + prs
        prs = prs[:n_pairs]
        a = res.theta[[i for i, _ in prs]]
        b = res.theta[[j for _, j in prs]]
        out.append((name, fam, data, a, b))
    return out


def bench_batched(problems, steps: int):
    print(f"1. string method, {steps} steps × 16 images: batched vs pair by pair")
    opts = StringOptions(images=16, steps=steps)
    for name, fam, data, a, b in problems:
        t0 = time.perf_counter()
        batch = string_method(fam, data, a, b, options=opts)
        t_batch = time.perf_counter() - t0
        t0 = time.perf_counter()
        loop = torch.cat([string_method(fam, data, a[i:i + 1], b[i:i + 1], options=opts)
                          for i in range(len(a))])
        t_loop = time.perf_counter() - t0
        same = torch.allclose(batch, loop, rtol=1e-8, atol=1e-10)
        print(f"   {name:24s} {len(a)} pairs: batched {t_batch:7.2f} s, pair by pair "
              f"{t_loop:7.2f} s, ratio {t_loop / t_batch:5.1f}×  (same strings: {same})")


def _string_evals_to_certify(fam, data, a, b, level, max_steps: int = 1600):
    steps, out = 25, [None] * len(a)
    todo = list(range(len(a)))
    while todo and steps <= max_steps:
        opts = StringOptions(images=16, steps=steps, init_noise=0.05)
        paths = connect(fam, data, a[todo], b[todo], method="string", options=opts)
        certs = certify_paths(fam, data, paths)
        left = []
        for k, c, p in zip(todo, certs, paths):
            if c.bound <= level[k]:
                out[k] = p.loss_evals
            else:
                left.append(k)
        todo, steps = left, steps * 2
    return out


def bench_dss(problems, eps: float):
    print(f"2. loss evaluations to certify a path below max(L_A, L_B) + {eps:g}·mean y² "
          "(median over pairs; string: smallest of 25, 50, …, 1600 steps that certifies)")
    for name, fam, data, a, b in problems:
        scale = float((data[1] ** 2).sum() / len(data[1]))
        ends = fam.loss(torch.cat([a, b]), data).reshape(2, -1).max(0).values.double()
        level = ends + eps * scale
        t0 = time.perf_counter()
        dss = connect(fam, data, a, b, method="dss", level=level, options="default")
        t_dss = time.perf_counter() - t0
        d_evals = [p.loss_evals for p in dss if p.info["certified_below_level"]]
        t0 = time.perf_counter()
        s_evals = [e for e in _string_evals_to_certify(fam, data, a, b, level) if e is not None]
        t_str = time.perf_counter() - t0
        md = statistics.median(d_evals) if d_evals else float("nan")
        ms = statistics.median(s_evals) if s_evals else float("nan")
        print(f"   {name:24s} DSS certified {len(d_evals)}/{len(a)} with median {md:8.0f} evals "
              f"({t_dss:.1f} s); string certified {len(s_evals)}/{len(a)} with median {ms:8.0f} "
              f"evals ({t_str:.1f} s); string/DSS = {ms / md:5.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=32)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--eps", type=float, default=1e-2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    problems = _problems(args.pairs)
    bench_batched(problems, args.steps)
    bench_dss([(n, f, d, a[:8], b[:8]) for n, f, d, a, b in problems], args.eps)


if __name__ == "__main__":
    main()
