"""Liao & Poggio (CBMM Memo 066, 2017),
Figure 4: batch GD with perturbed branches (0.25 S) and epoch-wise averaging;
numbers are training errors (%).

Small CPU reproduction on scikit-learn's 8×8 digits with the 6-layer DCNN:

    OMP_NUM_THREADS=1 .venv/bin/python demos/mds_bgd_branches.py [OUT_DIR] [PRESET] [SEED]

PRESET is fast, default (about a minute or two on 2 CPU cores) or paper (CIFAR-10, GPU).
Writes OUT_DIR/trajectory (the store), OUT_DIR/result.json and OUT_DIR/figure.png.
"""

import sys

from lstheory.cli import main

if __name__ == "__main__":
    defaults = ["demo_out/mds_bgd_branches", "default", "0"]
    out, preset, seed = (sys.argv[1:] + defaults[len(sys.argv) - 1 :])[:3]
    device = ["--device", "cuda"] if preset == "paper" else []
    sys.exit(main(["mds", "experiment", "bgd-branches", "--out", out, "--preset", preset,
                   "--seed", seed, *device]))
