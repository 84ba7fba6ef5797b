"""Liao & Poggio (CBMM Memo 066, 2017): one of the four trajectory experiments, by name.

Small CPU reproduction on scikit-learn's 8×8 digits with the 6-layer DCNN:

    OMP_NUM_THREADS=1 .venv/bin/python demos/mds_experiment.py NAME [OUT_DIR] [PRESET] [SEED]

NAME (``lstheory.studies.liao_poggio.EXPERIMENTS``):

``sgd-stages``       Figure 3: SGD in stages, parallel runs, half of them from a 0.01 S
                     perturbation.
``bgd-branches``     Figure 4: batch GD with perturbed branches (0.25 S) and epoch-wise
                     averaging; numbers are training errors (%).
``perturb-retrain``  Figure 5 / App. E: perturb early, middle and final models, retrain,
                     agreement matrices.
``interpolation``    App. C: error along the segment between two perturbed models, before and
                     after retraining.

OUT_DIR defaults to ``demo_out/mds_<NAME>`` (dashes as underscores), PRESET to ``default`` (fast,
default: about a minute or two on 2 CPU cores, or paper: CIFAR-10 on a GPU), SEED to 0.
Writes OUT_DIR/trajectory (the store), OUT_DIR/result.json and OUT_DIR/figure.png. This is
``lstheory mds experiment NAME --out OUT_DIR --preset PRESET --seed SEED``, which checks every
argument (exit code 2 on a bad one).
"""

import sys

from lstheory.cli import main


def run(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if not 1 <= len(argv) <= 4:
        print(__doc__, file=sys.stderr)
        return 2
    name = argv[0]
    defaults = [f"demo_out/mds_{name.replace('-', '_')}", "default", "0"]
    out, preset, seed = (argv[1:] + defaults[len(argv) - 1:])[:3]
    device = ["--device", "cuda"] if preset == "paper" else []
    return main(["mds", "experiment", name, "--out", out, "--preset", preset, "--seed", seed,
                 *device])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
