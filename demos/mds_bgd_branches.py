"""Liao & Poggio (CBMM Memo 066, 2017),
Figure 4: batch GD with perturbed branches (0.25 S) and epoch-wise averaging;
numbers are training errors (%).

Small CPU reproduction on scikit-learn's 8×8 digits with the 6-layer DCNN:

    OMP_NUM_THREADS=1 .venv/bin/python demos/mds_bgd_branches.py [OUT_DIR] [PRESET] [SEED]

PRESET is fast, default (about a minute or two on 2 CPU cores) or paper (CIFAR-10, GPU).
Writes OUT_DIR/trajectory (the store), OUT_DIR/result.json and OUT_DIR/figure.png.
"""

import sys
from pathlib import Path

from lstheory.mds import plot_experiment, run_experiment


def main(out="demo_out/mds_bgd_branches", preset="default", seed="0"):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cuda" if preset == "paper" else "cpu"
    result = run_experiment(
        "bgd-branches",
        out,
        preset=preset,
        seed=int(seed),
        device=device,
        progress=lambda msg: print(msg, end="\r", flush=True),
    )
    print()
    result.save_json(out / "result.json")
    plot_experiment(result, out / "figure.png")
    print(result.summary())
    print(f"figure: {out / 'figure.png'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
