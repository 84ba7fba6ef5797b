"""Benchmarks of the headline run, printed as ratios against named anchors.

1. `lstheory verify venturi --n-data 20` (defaults), wall time of the whole command as a user
   runs it (interpreter start, imports, check, output), against the 30 s target.
2. The batched loss `loss(theta[K, P])` against a Python loop over the K vectors (same values).
3. The batched loss-and-gradient (chunked) against one unchunked batch (the allocator effect).

Run: `.venv/bin/python benchmarks/bench_venturi.py` (or `make bench`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import torch

from lstheory.claims.venturi import venturi_instance

TARGET_S = 30.0


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_default_run() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "lstheory")
    t0 = time.perf_counter()
    r = subprocess.run([exe, "verify", "venturi", "--n-data", "20", "--quiet"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    outcome = r.stdout.split("\n", 1)[0].split(":")[1].split()[0] if r.stdout else "?"
    stages = [line for line in r.stdout.splitlines() if "timings" in line]
    print(f"[1] lstheory verify venturi --n-data 20: {wall:.2f} s wall, outcome {outcome}, "
          f"exit {r.returncode}")
    print(f"    target {TARGET_S:.0f} s -> {wall / TARGET_S:.2f} of the target "
          f"({TARGET_S / wall:.1f}x headroom)")
    if stages:
        print("   " + stages[0].strip())


def bench_batched_loss(k: int = 512) -> None:
    inst = venturi_instance(20, seed=0)
    fam, data = inst.family, inst.data
    theta = fam.sample(k, seed=1)
    batched = _best(lambda: fam.loss(theta, data))
    loop = _best(lambda: [fam.loss(theta[i : i + 1], data) for i in range(k)])
    same = torch.allclose(fam.loss(theta, data),
                          torch.cat([fam.loss(theta[i : i + 1], data) for i in range(k)]))
    print(f"[2] loss of K={k} vectors (N=20, p=41): batched {batched * 1e3:.2f} ms, "
          f"loop {loop * 1e3:.1f} ms -> batched is {loop / batched:.0f}x faster (equal: {same})")


def bench_chunking(k: int = 1680) -> None:
    import lstheory.nets._family as F

    inst = venturi_instance(60, seed=0)
    fam, data = inst.family, inst.data
    theta = fam.sample(k, seed=1)
    chunked = _best(lambda: fam.loss_and_grad(theta, data))
    saved = F.CHUNK_BYTES
    F.CHUNK_BYTES = 2**40
    try:
        whole = _best(lambda: fam.loss_and_grad(theta, data))
    finally:
        F.CHUNK_BYTES = saved
    print(f"[3] loss+grad of K={k} vectors (N=60, p=121): one batch {whole * 1e3:.0f} ms, "
          f"chunked {chunked * 1e3:.0f} ms -> {whole / chunked:.1f}x")


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    bench_default_run()
    bench_batched_loss()
    bench_chunking()
