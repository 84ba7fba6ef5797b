"""Benchmarks of lstheory.convex against their anchors, as ratios from one run.

* nuclear-ball projection (one SVD + the sorted-threshold formula) vs scipy's SLSQP on the same
  projection problem (the generic convex solver the tests use as the reference);
* InversePolynomialNystroem vs scikit-learn's Nystroem with the same kernel as a Python callable
  (equal features; scikit-learn evaluates the callable once per pair);
* one epoch of projected SGD on digits features vs one epoch of the CNN-1 baseline.

    python benchmarks/bench_convex.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _time(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_projection():
    from test_convex_projection import _nuclear_reference

    from lstheory.convex import project_nuclear_ball

    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 5))
    R = 0.5 * np.linalg.svd(A, compute_uv=False).sum()
    ours = _time(lambda: project_nuclear_ball(torch.tensor(A), R))
    ref = _time(lambda: _nuclear_reference(A, R), repeat=1)
    diff = np.abs(project_nuclear_ball(torch.tensor(A), R).numpy() - _nuclear_reference(A, R))
    print(f"projection 4x5: ours {ours * 1e3:.3f} ms, SLSQP {ref * 1e3:.1f} ms, "
          f"speed-up {ref / ours:.0f}x, max |difference| {diff.max():.1e}")


def bench_nystroem():
    from sklearn.kernel_approximation import Nystroem

    from lstheory.convex import InversePolynomialNystroem, inverse_polynomial_kernel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 9))
    X /= np.linalg.norm(X, axis=1, keepdims=True) * 1.1
    ours = InversePolynomialNystroem(100, random_state=0)
    ref = Nystroem(kernel=inverse_polynomial_kernel, n_components=100, random_state=0)
    t_ours = _time(lambda: ours.fit(X).transform(X))
    t_ref = _time(lambda: ref.fit(X).transform(X), repeat=1)
    diff = np.abs(ours.transform(X) - ref.transform(X)).max()
    print(f"Nyström inverse-polynomial, 2000 x 100: ours {t_ours * 1e3:.1f} ms, scikit-learn "
          f"callable {t_ref * 1e3:.0f} ms, speed-up {t_ref / t_ours:.0f}x, max |difference| "
          f"{diff:.1e}")


def bench_epoch():
    from lstheory.convex import CCNN, ConvNet
    from lstheory.data import load_digits
    from lstheory.models import train

    d = load_digits()
    ccnn = CCNN(patch_size=3, padding=1, radius=80, max_iter=1, random_state=0)
    feats = ccnn.fit(d.x_train, d.y_train.numpy())
    from lstheory.convex import fit_nuclear_softmax
    from lstheory.convex._solver import SolverOptions

    Z = feats.pooled_features(d.x_train)
    t_ccnn = _time(lambda: fit_nuclear_softmax(Z, d.y_train, 80.0,
                                               options=SolverOptions(max_iter=1)))
    net = ConvNet(d.input_shape, 10, (16,), seed=0)
    t_cnn = _time(lambda: train(net, d, "adam", epochs=1, batch_size=64), repeat=1)
    print(f"one epoch on digits: CCNN-1 projected SGD {t_ccnn:.2f} s, CNN-1 Adam {t_cnn:.2f} s, "
          f"ratio {t_ccnn / t_cnn:.1f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    bench_projection()
    bench_nystroem()
    bench_epoch()
