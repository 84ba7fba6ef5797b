"""Winograd F(m × m, 3 × 3) against the direct convolution on ResNet-20's layers, one thread.

    OMP_NUM_THREADS=1 python benchmarks/bench_winograd.py

The measurement behind the decision not to build a surface route on Winograd's algorithm
(issue 17: the conv surfaces at ≥ 2× ``loss-landscapes`` need fewer multiplies than the direct
convolution, which already runs at the matmul rate).

Measured 2026-12-05 (one thread, machine loaded by three other sessions,
CPU seconds, 160 / 480 / 1,438 samples, three runs): on ResNet-20's 16-channel 8×8 and 32-channel
4×4 layers F(2×2, 3×3) in torch ops ran at 0.42–0.72× the speed of oneDNN's direct convolution
and F(4×4, 3×3) at 0.48–0.91×, although their batched products alone ran 1.0–1.9× and 1.9–3.6×
faster: the elementwise transforms took 53–85 % of the time. With the transforms fused by
``torch.compile`` (inductor; a scratch script, not kept here) F(4×4) reached 0.72–1.04× (160 and
480 samples; 5–30 s to compile each shape) and F(2×2) 0.48–0.74×. Error against float64 (outputs
up to 5.4): direct 1.0–2.0e-6, F(2×2) 0.8–1.0e-6, F(4×4) 1.3–2.1e-5. The DCNN has no stride-1
3×3 layer (all five are stride 2). So no surface route is built on Winograd.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

#: Winograd F(m × m, 3 × 3) (Lavin & Gray 2016): input transform Bᵀ, filter transform G, output
#: transform Aᵀ, for m = 2 and 4.
WINOGRAD = {
    2: (
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
        [[1, 1, 1, 0], [0, 1, -1, -1]],
    ),
    4: (
        [
            [4, 0, -5, 0, 1, 0],
            [0, -4, -4, 1, 1, 0],
            [0, 4, -4, -1, 1, 0],
            [0, -2, -1, 2, 1, 0],
            [0, 2, -1, -2, 1, 0],
            [0, 4, 0, -5, 0, 1],
        ],
        [
            [1 / 4, 0, 0],
            [-1 / 6, -1 / 6, -1 / 6],
            [-1 / 6, 1 / 6, -1 / 6],
            [1 / 24, 1 / 12, 1 / 6],
            [1 / 24, -1 / 12, 1 / 6],
            [0, 0, 1],
        ],
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    ),
}


def _winograd_layer(m, x, w, b):
    """One 3×3 stride-1 padding-1 convolution + bias + ReLU by Winograd F(m × m, 3 × 3) in torch
    ops on a zero-bordered pixel-major map ``[H+2, W+2, n, C]`` (as a route would keep it between
    layers; transforms separable, by strided slices and ``add_(alpha=)``; then ``a²`` batched
    products). Returns ``(run, bmm_only, error vs float64)``."""
    bt, g, at = ([[(c, j) for j, c in enumerate(r) if c] for r in mat] for mat in WINOGRAD[m])
    n, c, h, _ = x.shape
    a, t, co, span = m + 2, h // m, w.shape[0], (h // m - 1) * m + 1
    pad = torch.zeros(h + 2, h + 2, n, c)
    pad[1 : h + 1, 1 : h + 1] = x.permute(2, 3, 0, 1)
    gm = torch.tensor(WINOGRAD[m][1], dtype=torch.float64)
    u = torch.einsum("ai,oxij,bj->abxo", gm, w.double(), gm).reshape(a * a, c, co).float()
    r, v = torch.empty(a, t, h + 2, n, c), torch.empty(a, a, t, t, n, c)
    mm, y, out = (
        torch.empty(a * a, t * t * n, co),
        torch.empty(m, a, t, t, n, co),
        torch.zeros(h + 2, h + 2, n, co),
    )
    tiles = out[1 : h + 1, 1 : h + 1].view(t, m, t, m, n, co).permute(1, 3, 0, 2, 4, 5)

    def comb(dst, terms):
        (c0, x0), *rest = terms
        dst.copy_(x0) if c0 == 1 else torch.mul(x0, c0, out=dst)
        for ci, xi in rest:
            dst.add_(xi, alpha=ci)

    def run():
        for i, row in enumerate(bt):
            comb(r[i], [(ci, pad[j : j + span : m]) for ci, j in row])
        for i, row in enumerate(bt):
            comb(v[:, i], [(ci, r[:, :, j : j + span : m]) for ci, j in row])
        torch.bmm(v.view(a * a, -1, c), u, out=mm)
        m6 = mm.view(a, a, t, t, n, co)
        for i, row in enumerate(at):
            comb(y[i], [(ci, m6[k]) for ci, k in row])
        for i, row in enumerate(at):
            comb(tiles[:, i], [(ci, y[:, k]) for ci, k in row])
        return out[1 : h + 1, 1 : h + 1].add_(b).clamp_(min=0)

    ref = F.conv2d(x.double(), w.double(), b.double(), padding=1).clamp(min=0)
    err = (run().permute(2, 3, 0, 1).double() - ref).abs().max().item()
    return run, lambda: torch.bmm(v.view(a * a, -1, c), u, out=mm), err


def _winograd_layers(rounds=9, inner=5):
    """ResNet-20's 3×3 stride-1 layers on digits (16 channels on 8×8,
    32 on 4×4), oneDNN's direct convolution (NCHW, + bias + ReLU) against Winograd F(2×2, 3×3)
    and F(4×4, 3×3) in torch ops, and their batched products alone (the transforms for free);
    CPU seconds, interleaved, median [min–max] of ``rounds``; largest error against float64."""
    for n in (160, 480, 1438):
        for h, c in ((8, 16), (4, 32)):
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(n, c, h, h, generator=gen).clamp(min=0)
            w = torch.randn(c, c, 3, 3, generator=gen) * (2 / (9 * c)) ** 0.5
            b = 0.1 * torch.randn(c, generator=gen)
            ref = F.conv2d(x.double(), w.double(), b.double(), padding=1).clamp(min=0)
            err = {"direct": (F.conv2d(x, w, b, padding=1).clamp(min=0) - ref).abs().max()}
            runs = {"direct": lambda x=x, w=w, b=b: F.conv2d(x, w, b, padding=1).clamp_(min=0)}
            for m in (2, 4):
                if h % m == 0:
                    runs[f"F({m},3)"], runs[f"F({m},3) bmm only"], err[f"F({m},3)"] = (
                        _winograd_layer(m, x, w, b)
                    )
            times = {k: [] for k in runs}
            for f in runs.values():
                f()
            for _ in range(rounds):
                for k, f in runs.items():
                    c0 = time.process_time()
                    for _ in range(inner):
                        f()
                    times[k].append((time.process_time() - c0) / inner)
            base = np.median(times["direct"])
            print(f"{c} channels on {h}x{h}, {n} samples (max |y| {ref.abs().max():.2f}):")
            for k, v in times.items():
                e = f"  max |err| vs float64 {float(err[k]):.1e}" if k in err else ""
                print(
                    f"  {k:<16} {np.median(v) * 1e3:7.3f} ms [{min(v) * 1e3:.3f}-"
                    f"{max(v) * 1e3:.3f}]  direct/this {base / np.median(v):.2f}x{e}"
                )


if __name__ == "__main__":
    torch.set_num_threads(1)
    _winograd_layers()
