"""Liao & Poggio (CBMM Memo 066, 2017),
Figure 5 / App. E: perturb early, middle and final models, retrain, agreement matrices.

Small CPU reproduction on scikit-learn's 8×8 digits with the 6-layer DCNN:

    OMP_NUM_THREADS=1 .venv/bin/python demos/mds_perturb_retrain.py [OUT_DIR] [PRESET] [SEED]

PRESET is fast, default (about a minute or two on 2 CPU cores) or paper (CIFAR-10, GPU).
Writes OUT_DIR/trajectory (the store), OUT_DIR/result.json and OUT_DIR/figure.png.
"""

import sys

from lstheory.cli import main

if __name__ == "__main__":
    defaults = ["demo_out/mds_perturb_retrain", "default", "0"]
    out, preset, seed = (sys.argv[1:] + defaults[len(sys.argv) - 1 :])[:3]
    device = ["--device", "cuda"] if preset == "paper" else []
    sys.exit(main(["mds", "experiment", "perturb-retrain", "--out", out, "--preset", preset,
                   "--seed", seed, *device]))
