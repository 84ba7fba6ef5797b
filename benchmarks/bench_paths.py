"""Path-engine benchmarks (plain script: prints ratios; not part of the test run).

1. The batched string method against the same method run pair by pair on the same pairs
   (anchor: the loop over pairs), on a two-layer ReLU teacher problem and a deep linear net.
2. Dynamic String Sampling against the string method: loss evaluations needed to *certify* a
   path below the level λ = max(L_A, L_B) + ε · mean y² (the string method is rerun with
   doubling step counts until its certificate is below λ).
3. The adaptive search (``method="search"``, issue 12's targets, printed as measured):
   (a) ``verify venturi --n-data 20``'s instance: all 120 pairs of the 16 minima certified with
       barrier ≤ 1e-3 · mean y², N_λ by search alone at λ − L* = 1e-3, the search's time
       (target ≤ 5 s), anchor: the claim's string method (default budget) on the same pairs;
   (b) the same at N = 40 (p = 81; target ≤ 60 s);
   (c) the 1-1-1 linear tightness instance: best barrier against the true one (target: 1 %);
   (d) two independently trained nets through ``ModuleFamily`` (an MLP on MNIST-1D, a tanh CNN
       on 1,200 digits): share of the straight line's train-loss barrier removed (target
       ≥ 95 %, ≤ 30 s for the CNN), the Garipov Bézier fit beside it;
   (e) the search batched over pairs against pair by pair (target ≥ 10×).

    .venv/bin/python benchmarks/bench_paths.py [--pairs 32] [--threads 2] [--only 3]
    .venv/bin/python benchmarks/bench_paths.py --only 3 --skip-modules   # minutes less

Timings depend on the machine's load; the numbers of a run are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from lstheory._random import child_seeds
from lstheory.claims._connectivity import pairs, starts
from lstheory.claims.freeman_bruna import linear_instance
from lstheory.nets import DescentOptions, deep_linear, minimize, two_layer
from lstheory.paths import (
    ModuleFamily,
    StringOptions,
    certify_paths,
    component_counts,
    connect,
    level_set_graph,
    path_losses,
    string_method,
)


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


# ---------------------------------------------------------------------------- 3. the search
def _venturi_minima(n_data: int, seed: int = 0, k: int = 16):
    """The instance and the minima of ``verify venturi --n-data N`` (default budget): the same
    family, data, seeded starts and descent (with the claim's 4× follow-up for stuck starts)."""
    from lstheory.claims.venturi import REACH_RTOL, venturi_instance

    inst = venturi_instance(n_data, seed=seed)
    fam = inst.family
    theta0 = torch.cat([fam.sample(1, seed=s) for s in child_seeds(seed, k, stream="starts")])
    opts = DescentOptions.preset("default")
    res = minimize(fam, inst.data, theta0, options=opts)
    theta, loss = res.theta.clone(), res.loss.clone()
    stuck = (loss - inst.L_star > REACH_RTOL * inst.scale).nonzero().flatten()
    if len(stuck):
        more = minimize(fam, inst.data, theta[stuck], options=opts.scaled(4))
        theta[stuck], loss[stuck] = more.theta, more.loss
    return inst, theta, loss


def _n_lambda(node_loss, prs, bounds, level):
    G = level_set_graph(node_loss, [(i, j, b) for (i, j), b in zip(prs, bounds)])
    return component_counts(G, [level])[0]


def bench_venturi(n_data: int, anchor: bool, options="default"):
    inst, theta, loss = _venturi_minima(n_data)
    fam, data, scale = inst.family, inst.data, inst.scale
    prs = pairs(len(theta), 120, 1)
    a, b = theta[[i for i, _ in prs]], theta[[j for _, j in prs]]
    level = inst.L_star + 1e-3 * scale
    lam = np.maximum(loss.double().numpy()[[i for i, _ in prs]],
                     loss.double().numpy()[[j for _, j in prs]]) + 1e-3 * scale
    t0 = time.perf_counter()
    paths = connect(fam, data, a, b, method="search", level=lam, options=options)
    t_search = time.perf_counter() - t0
    t0 = time.perf_counter()
    certs = certify_paths(fam, data, paths)
    t_cert = time.perf_counter() - t0
    bar = np.array([c.barrier_bound for c in certs]) / scale
    ok = sum(c.bound <= lv for c, lv in zip(certs, lam))
    imgs = [p.info["images"] for p in paths]
    n_lam = _n_lambda(loss.numpy(), prs, [c.bound for c in certs], level)
    print(f"   venturi N={n_data} (p={inst.width}, P={fam.n_params}), {len(prs)} pairs, "
          f"search options {options!r}:")
    print(f"      certified ≤ 1e-3·mean y²: {ok}/{len(prs)}; barrier/mean y² median "
          f"{np.median(bar):.2e}, max {bar.max():.2e}; images median {np.median(imgs):.0f}, max "
          f"{max(imgs)}; N_λ by search at λ − L* = 1e-3: {n_lam}")
    print(f"      search {t_search:.1f} s (+ {t_cert:.1f} s to certify the returned paths "
          f"again, as the claim does)")
    if anchor:
        t0 = time.perf_counter()
        strings = string_method(fam, data, a, b, options="default")
        sc = certify_paths(fam, data, list(strings))
        t_str = time.perf_counter() - t0
        sb = np.array([c.barrier_bound for c in sc]) / scale
        n_str = _n_lambda(loss.numpy(), prs, [c.bound for c in sc], level)
        print(f"      anchor: string method (default, 16 images × 300 steps) {t_str:.1f} s, "
              f"barrier/mean y² median {np.median(sb):.2e}, max {sb.max():.2e}, N_λ {n_str}")
    return fam, data, a, b, lam


def bench_tightness():
    fam = deep_linear([1, 1, 1])
    data = linear_instance([1, 1, 1], "unit", 1, 0)
    a = torch.tensor([[1.0, 1.0]], dtype=torch.float64)  # a global minimiser; −a the other one
    t0 = time.perf_counter()
    (p,) = connect(fam, data, a, -a, method="search", options="default")
    (c,) = certify_paths(fam, data, [p])
    true = 1.0  # the rank-deficient set ab = 0 has loss (1 − 0)² = 1; every path crosses it
    print(f"   1-1-1 linear, unit data, (1, 1) → (−1, −1): certified barrier {c.barrier_bound:.6f}"
          f" against the true {true:.6f} ({100 * (c.barrier_bound / true - 1):+.4f} %), "
          f"{time.perf_counter() - t0:.2f} s")


def _train(make, X, Y, seed: int, steps: int):
    torch.manual_seed(seed)
    m = make()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(X), Y).backward()
        opt.step()
    return m


def bench_modules(search_options, bezier_steps: int, dtype=torch.float32):
    from torch import nn

    from lstheory.data import load_digits, load_mnist1d

    def mlp():
        return nn.Sequential(nn.Linear(40, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU(),
                             nn.Linear(48, 10)).to(dtype)

    def cnn():
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Tanh(),
                             nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.Tanh(), nn.Flatten(),
                             nn.Linear(8 * 4 * 4, 24), nn.Tanh(), nn.Linear(24, 10)).to(dtype)

    d1, d2 = load_mnist1d(), load_digits()
    cases = (("MLP 40-48-48-10, MNIST-1D", mlp, d1.x_train[:1200], d1.y_train[:1200]),
             ("tanh CNN (2 conv), digits", cnn, d2.x_train[:1200], d2.y_train[:1200]))
    for name, make, X, Y in cases:
        X = X.to(dtype)
        nets = [_train(make, X, Y, s, 400) for s in (0, 1)]
        fam = ModuleFamily(nets[0])
        a = fam.theta_of(nets[0]).to(dtype)[None]
        b = fam.theta_of(nets[1]).to(dtype)[None]
        data = (X, Y)

        def barrier(p, fam=fam, data=data):
            _, loss = path_losses(fam, data, p, n=257)
            return loss.max() - max(loss[0], loss[-1])

        (line,) = connect(fam, data, a, b, method="linear")
        lb = barrier(line)
        out = []
        for method, opts in (("search", search_options), ("bezier", {"steps": bezier_steps})):
            t0 = time.perf_counter()
            (p,) = connect(fam, data, a, b, method=method, options=opts)
            el = time.perf_counter() - t0
            label = f"search {opts}" if method == "search" else f"Bézier ({bezier_steps} steps)"
            out.append(f"{label} removes {100 * (1 - barrier(p) / lb):5.1f} % in {el:5.1f} s")
        print(f"   {name} (P={fam.n_params}, N=1200, {str(dtype)[6:]}): line barrier {lb:.3f}; "
              + "; ".join(out))


def bench_search_batched(fam, data, a, b, lam, n: int):
    a, b, lam = a[:n], b[:n], lam[:n]
    opts = "fast"
    t0 = time.perf_counter()
    batch = connect(fam, data, a, b, method="search", level=lam, options=opts)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = [connect(fam, data, a[i:i + 1], b[i:i + 1], method="search", level=lam[i:i + 1],
                    options=opts)[0] for i in range(n)]
    t_loop = time.perf_counter() - t0
    same = all(p.points.shape == q.points.shape
               and torch.allclose(p.points, q.points, rtol=1e-6, atol=1e-9)
               for p, q in zip(batch, loop))
    print(f"   search (fast) on venturi N=20, {n} pairs: batched {t_batch:.2f} s, pair by pair "
          f"{t_loop:.2f} s, ratio {t_loop / t_batch:.1f}× (same paths: {same})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=32)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--eps", type=float, default=1e-2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", type=int, choices=(1, 2, 3), default=None)
    p.add_argument("--skip-modules", action="store_true", help="section 3(d) takes minutes")
    p.add_argument("--no-anchor", action="store_true", help="skip the string-method anchors")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.only in (None, 1, 2):
        problems = _problems(args.pairs)
        if args.only in (None, 1):
            bench_batched(problems, args.steps)
        if args.only in (None, 2):
            bench_dss([(n, f, d, a[:8], b[:8]) for n, f, d, a, b in problems], args.eps)
    if args.only in (None, 3):
        print("3. adaptive search (issue 12 targets; timings on this machine, as measured)")
        t0 = time.perf_counter()
        fam, data, a, b, lam = bench_venturi(20, not args.no_anchor)
        bench_venturi(40, False)
        bench_tightness()
        bench_search_batched(fam, data, a, b, lam, 16)
        if not args.skip_modules:
            bench_modules({"max_images": 12, "rounds": 5, "relax_steps": 40}, 200)
        print(f"   (section 3: {time.perf_counter() - t0:.0f} s in all)")


if __name__ == "__main__":
    main()
